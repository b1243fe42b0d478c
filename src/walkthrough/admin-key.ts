import {AdminApiError, AdminClient} from '../admin/client.js'

/**
 * Checks an admin key with a harmless read (GET /admin/resources). True when the key works; else
 * why not, in words a prompt can show. Any other refusal means the key itself was accepted.
 */
export async function checkAdminKey(adminUrl: string, adminKey: string, timeoutMs: number): Promise<true | string> {
  try {
    await new AdminClient({adminUrl, adminKey, timeoutMs}).listResources()
    return true
  } catch (error) {
    if (error instanceof AdminApiError && error.kind === 'unauthorized') return `The admin API refused this key (${error.detail}); try again`
    if (error instanceof AdminApiError) return true
    return `Cannot check the key: ${(error as Error).message}`
  }
}
