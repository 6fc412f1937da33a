import { CdcError } from '../../topology/errors.ts';

/** A stack problem the user can fix: printed as one line saying what is wrong and what to do. */
export class StackError extends CdcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STACK', message, options);
  }
}
