/** The replay simulation in a test: started per test, stopped after it; the sample events as findings. */
import { afterEach } from 'vitest';
import { type FindingEvent, parseFindingEvent } from '../../lambdas/core/finding.js';
import { targetsOf } from '../../lambdas/core/targets.js';
import { type Simulation, startSimulation } from '../../simulation/simulation.js';
import { worldFor } from '../../simulation/world.js';
import { loadEvent } from './events.js';

/**
 * A `startSimulation` whose simulations all stop after the test, and `simulate`, which starts the world
 * a finding is shaped on.
 */
export function useSimulation() {
  let running: Simulation[] = [];
  afterEach(async () => {
    await Promise.all(running.map((simulation) => simulation.stop()));
    running = [];
  });
  const start = async (...args: Parameters<typeof startSimulation>): Promise<Simulation> => {
    const simulation = await startSimulation(...args);
    running.push(simulation);
    return simulation;
  };
  const simulate = (event: FindingEvent) =>
    start(worldFor(event.detail, targetsOf(event.detail)), event.detail.region);
  return { start, simulate };
}

/** A sample event from events/, changed as the test needs, then parsed. */
export function eventOf(file: string, change: (raw: ReturnType<typeof loadEvent>) => void = () => {}) {
  const raw = loadEvent(file);
  change(raw);
  return parseFindingEvent(raw);
}
