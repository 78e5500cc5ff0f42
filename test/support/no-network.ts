/**
 * The unit suite's promise, kept: no test in it opens a connection or listens on a port. Any attempt
 * throws, naming the test that must move to test/integration/.
 */
import net from 'node:net';

const refuse = (what: string) => () => {
  throw new Error(`a unit test ${what}: it belongs in test/integration/, not test/unit/`);
};

net.Socket.prototype.connect = refuse('opened a connection') as never;
net.Server.prototype.listen = refuse('listened on a port') as never;
