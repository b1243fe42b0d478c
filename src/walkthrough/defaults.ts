// The tier-02 walkthrough's names (contract §6), shared by verify, the setup commands and the wizard.

export const DEFAULT_CLIENT_SCOPE = 'mcp:echo'

export const VERIFY_DEFAULTS = {slug: 'demo-mcp', displayName: 'Demo MCP', clientName: 'demo-agent-ts', scope: DEFAULT_CLIENT_SCOPE} as const
