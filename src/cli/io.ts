/** Where the CLI writes: stdout for results, stderr for progress and errors (tests capture both). */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}
