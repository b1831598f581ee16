/**
 * What a use case answers, in the domain's words. No status codes here: lib/http's route table
 * maps each outcome to one (a route's response declares `outcome: 'created'` for its 201), and an
 * idempotency record keeps this result so a replay is mapped to the same answer again.
 */

/**
 * `created`: the use case made something new (a build, a report's attempt, an artifact record).
 * `unchanged`: it was asked to make something that already exists exactly so and changed nothing.
 * `accepted`: it started work that goes on after the answer (an upload's completion job).
 * Absent: the plain answer (a read, or a change to something that existed).
 */
export type OutcomeKind = 'created' | 'unchanged' | 'accepted';

/** A use case's answer as an idempotency record keeps it: what happened, and the body. */
export interface Result<B = unknown> {
  outcome?: OutcomeKind;
  body: B;
}

export const created = <B>(body: B): Result<B> => ({ outcome: 'created', body });
