import bcrypt from 'bcryptjs'

// User passwords, unlike client secrets (see store/secrets.ts), are chosen by people and guessable, so
// they get the slow KDF the real server uses: bcrypt. Cost 10 is Go's bcrypt.DefaultCost.
const COST = 10
/** bcrypt reads at most 72 bytes; Go's bcrypt refuses longer input rather than truncating it. */
export const MAX_PASSWORD_BYTES = 72

// Verified against when the email matches no user, so that a login for an unknown address costs
// the same bcrypt round as a wrong password and the response time does not tell them apart.
// Made on first use, so that starting the server does not pay for it.
let dummyHash: Promise<string> | undefined
function dummy(): Promise<string> {
  dummyHash ??= bcrypt.hash('no user has this password', COST)
  return dummyHash
}

export function passwordTooLong(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, COST)
}

/** Constant work whether or not there is a hash to check against. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  if (passwordTooLong(password)) {
    await bcrypt.compare('', await dummy())
    return false
  }
  const ok = await bcrypt.compare(password, hash ?? (await dummy()))
  return ok && hash !== undefined
}
