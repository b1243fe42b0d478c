// Local users and what the browser flow keeps about them: authorization sessions, consent grants,
// refresh-token families (internal/domain/{user,session,consent,token} of the real server).

/** RFC 6749 §4.1.2 recommends at most 10 minutes for a code; the real server uses exactly that. */
export const CODE_TTL_SECONDS = 600

export type UserRole = 'admin' | 'user'
export type UserStatus = 'active' | 'disabled'

export interface User {
  id: string
  email: string
  name: string
  password_hash: string
  role: UserRole
  status: UserStatus
  provider: string
  created_at: string
  updated_at: string
}

/** One run of `/oauth/authorize`: what was asked, and later the code that answers it. */
export interface AuthSession {
  id: string
  client_id: string
  user_id: string
  redirect_uri: string
  scope: string
  /** The canonical resource URI (the token audience), or '' when none was requested. */
  resource: string
  resource_id: string
  state: string
  code_challenge: string
  code_hash: string | null
  expires_at: number
  consumed_at: number | null
  created_at: number
}

export interface ConsentGrant {
  id: string
  user_id: string
  client_id: string
  resource_id: string
  scopes: string[]
  created_at: string
  updated_at: string
  revoked_at: string | null
}

export interface TokenFamily {
  id: string
  client_id: string
  user_id: string
  scope: string
  resource: string
  auth_session_id: string
  status: 'active' | 'revoked'
  created_at: string
}

export interface RefreshToken {
  id: string
  family_id: string
  token_hash: string
  expires_at: number
  consumed_at: number | null
  created_at: number
}
