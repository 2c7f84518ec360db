// What the host's files look like, asked once per path in one turn of the event loop: a start of 1,000 services plans (and checks) them all in one turn, each probing the same paths.
/**
 * `look` with its answers kept until the end of the current turn (a setImmediate forgets them, so nothing stays
 * cached while idle and a later start looks again). Within one turn an answer is as fresh as a second stat would be.
 */
export function turnMemo<T>(look: (path: string) => T): (path: string) => T {
  let answers: Map<string, T> | null = null;
  return (path) => {
    if (!answers) {
      answers = new Map();
      setImmediate(() => (answers = null));
    }
    if (answers.has(path)) return answers.get(path)!;
    const answer = look(path);
    answers.set(path, answer);
    return answer;
  };
}
