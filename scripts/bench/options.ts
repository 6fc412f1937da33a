/** A bench script's numeric option: a positive whole number, or an error naming the option. */
export function positiveOption(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new Error(`--${name} must be a positive whole number, got ${value}`);
  return number;
}
