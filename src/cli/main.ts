// `k8ts` subcommand dispatch: one binary, many subcommands.

const USAGE = `Usage: k8ts <command> [flags]

Commands:
  server     Run the API server, the control plane and (unless --disable-agent) this machine's node agent
  agent      Run a node agent (kubelet, service proxy, DNS listener) against a server's API
  image      Manage the node's images: import, ls, rm, pull
  version    Print the version

Run 'k8ts <command> --help' for the flags of a command.`;

export const VERSION = 'v1.32.3-k8ts.0.1.0';

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'server': {
      // Before the server's modules load: their loading is part of start-up (younggen.ts).
      const { holdYoungGeneration } = await import('./younggen.js');
      const youngGen = holdYoungGeneration();
      const { runServer } = await import('./server.js');
      await runServer(rest, youngGen);
      return;
    }
    case 'agent': {
      const { runAgent } = await import('./agent.js');
      await runAgent(rest);
      return;
    }
    case 'image': {
      const { runImage } = await import('./image.js');
      await runImage(rest);
      return;
    }
    case 'version':
    case '--version':
      console.log(`k8ts ${VERSION}`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`k8ts: unknown command "${cmd}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}
