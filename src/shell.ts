/** A value as one shell word: as it is when it needs no quoting, else single-quoted (POSIX sh). */
export function shellArg(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}
