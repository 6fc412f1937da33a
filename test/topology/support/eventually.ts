/**
 * Waits until `check` holds, for things that happen asynchronously (a consumer catching up). The deadline
 * only turns a hang into a failure that says what never happened; no test asserts how long anything took.
 */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 30_000): Promise<void> {
  const giveUp = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > giveUp) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
