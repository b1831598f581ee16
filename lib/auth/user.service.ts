import { AppError } from '../errors';
import { normaliseScopes } from './api-key.service';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password';
import type { Principal, Scope } from './principal';
import type { UserRecord, UserRepository } from './user.repository';

export interface NewUser {
  username: string;
  email: string;
  password: string;
  scopes: Scope[];
}

export class UserService {
  constructor(
    private readonly repo: UserRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(input: NewUser, actor: Principal) {
    const at = this.now().toISOString();
    const user: UserRecord = {
      username: input.username,
      email: input.email,
      scopes: normaliseScopes(input.scopes),
      password_hash: await hashPassword(input.password),
      version: 1,
      created_at: at,
      created_by: actor.id,
      updated_at: at,
      updated_by: actor.id,
      deactivated_at: null,
      deactivated_by: null,
    };
    if (!(await this.repo.put(user, null))) {
      throw new AppError(
        'already_exists',
        `User '${input.username}' exists (deactivated users keep their name)`,
        {
          username: input.username,
        },
      );
    }
    return userView(user);
  }

  async list(includeDeactivated: boolean) {
    return (await this.repo.list()).filter((u) => includeDeactivated || !u.deactivated_at).map(userView);
  }

  /** Soft delete: the record stays (history names it as actor); tokens stop working at once. */
  async deactivate(username: string, actor: Principal) {
    for (;;) {
      const user = await this.repo.get(username);
      if (!user) throw new AppError('not_found', `No user '${username}'`, { username });
      if (user.deactivated_at) return userView(user);
      const at = this.now().toISOString();
      const next = {
        ...user,
        version: user.version + 1,
        updated_at: at,
        updated_by: actor.id,
        deactivated_at: at,
        deactivated_by: actor.id,
      };
      if (await this.repo.put(next, user.version)) return userView(next);
    }
  }

  /** The active user with this name and password, or null; same cost whether or not the user exists. */
  async verify(username: string, password: string): Promise<UserRecord | null> {
    const user = await this.repo.get(username);
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    return ok && user && !user.deactivated_at ? user : null;
  }

  /** The user behind a token, if still active. */
  async active(username: string): Promise<UserRecord | null> {
    const user = await this.repo.get(username);
    return user && !user.deactivated_at ? user : null;
  }
}

export function userView(u: UserRecord) {
  return {
    username: u.username,
    email: u.email,
    scopes: u.scopes,
    active: !u.deactivated_at,
    version: u.version,
    created_at: u.created_at,
    created_by: u.created_by,
    updated_at: u.updated_at,
    updated_by: u.updated_by,
    deactivated_at: u.deactivated_at,
    deactivated_by: u.deactivated_by,
  };
}
