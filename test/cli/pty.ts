import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'

/**
 * A real pseudo-terminal around the CLI, made by util-linux `script`: the wizard sees a TTY on
 * stdin and stdout exactly as in a user's terminal, and the test types keys into it. Chosen over
 * @inquirer/testing because it runs the built binary end to end (TTY detection, raw mode,
 * Ctrl-C as a real SIGINT-producing keystroke) rather than the prompts in-process.
 */
export class Pty {
  private output = ''
  private readonly child: ChildProcessWithoutNullStreams
  readonly exited: Promise<number | null>

  constructor(command: string[], options: {cwd: string; env: NodeJS.ProcessEnv}) {
    const line = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    this.child = spawn('script', ['-qfec', line, '/dev/null'], {cwd: options.cwd, env: {...options.env, TERM: 'xterm', COLUMNS: '200', LINES: '50'}})
    this.child.stdout.on('data', (d) => (this.output += d))
    this.child.stderr.on('data', (d) => (this.output += d))
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)))
  }

  /** The screen so far, without ANSI escapes. */
  get text(): string {
    // eslint-disable-next-line no-control-regex
    return this.output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')
  }

  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    const started = Date.now()
    while (!pattern.test(this.text)) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${pattern}; screen:\n${this.text}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  /** Waits for a prompt, then types the answer and Enter. */
  async answer(prompt: RegExp, keys = ''): Promise<void> {
    await this.waitFor(prompt)
    await new Promise((resolve) => setTimeout(resolve, 50))
    this.type(`${keys}\r`)
  }

  type(keys: string): void {
    this.child.stdin.write(keys)
  }

  kill(): void {
    this.child.kill('SIGKILL')
  }
}
