/**
 * A Lambda handler whose dependencies (settings from the environment, SDK clients) are built once, on
 * the first invocation, and reused while the container lives. Tests and the simulation build the same
 * handlers with their own dependencies instead.
 */
export function lazyHandler<I, O>(build: () => (input: I) => Promise<O>): (input: I) => Promise<O> {
  let built: ((input: I) => Promise<O>) | undefined;
  return (input) => {
    built ??= build();
    return built(input);
  };
}
