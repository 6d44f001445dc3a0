// What a reviewer must see: the fields that changed since the last approved revision, and a word diff of texts.
export interface FieldChange { field: string; label: string; before: unknown; after: unknown }
export type Piece = { kind: 'same' | 'added' | 'removed'; text: string }

export const REVIEWED_FIELDS: Record<string, string> = {
  title: '标题', summary: '摘要', body: '正文', kind: '类型', category: '栏目', priority: '优先级',
  duration: '时长', link_url: '链接', valid_from: '生效时间', valid_until: '失效时间',
  weekly_windows: '播放时段', targets: '投放目标', push: '推送', media: '图片/视频',
}

/** JSON with sorted keys, empty lists and null alike: the API answers [] where the editor sends null. */
function canonical(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (x === undefined || x === null || (Array.isArray(x) && x.length === 0)) return null
    if (Array.isArray(x)) return x.map(norm)
    if (typeof x === 'object') return Object.fromEntries(Object.keys(x as object).sort().map((k) => [k, norm((x as Record<string, unknown>)[k])]))
    return x
  }
  return JSON.stringify(norm(v))
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b)
}

export function changedFields(before: Record<string, unknown> | null, after: Record<string, unknown>): FieldChange[] {
  return Object.entries(REVIEWED_FIELDS)
    .filter(([f]) => !same(before?.[f], after[f]))
    .map(([field, label]) => ({ field, label, before: before?.[field] ?? null, after: after[field] ?? null }))
}

/** Split Chinese text per character and other text per word, so a diff reads naturally in both. */
export function tokens(text: string): string[] {
  return text.match(/[\u3400-\u9fff\uf900-\ufaff]|[^\s\u3400-\u9fff\uf900-\ufaff]+|\s+/g) ?? []
}

/** Longest-common-subsequence diff of two texts (capped so a huge body cannot freeze the page). */
export function textDiff(before: string, after: string, cap = 4000): Piece[] {
  const a = tokens(before).slice(0, cap), b = tokens(after).slice(0, cap)
  const n = a.length, m = b.length
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  const out: Piece[] = []
  const push = (kind: Piece['kind'], text: string) => {
    const last = out[out.length - 1]
    if (last && last.kind === kind) last.text += text
    else out.push({ kind, text })
  }
  let i = 0, j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) { push('same', a[i]); i++; j++ }
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) push('removed', a[i++])
    else push('added', b[j++])
  }
  while (i < n) push('removed', a[i++])
  while (j < m) push('added', b[j++])
  return out
}

export function rebuild(pieces: Piece[], side: 'before' | 'after'): string {
  return pieces.filter((p) => p.kind === 'same' || p.kind === (side === 'before' ? 'removed' : 'added'))
    .map((p) => p.text).join('')
}

export interface AuditEntry { action: string; before?: Record<string, unknown> | null; after?: Record<string, unknown> | null; at: string }
const APPROVALS = new Set(['content.approve', 'content.publish'])

/** The item as it was when last approved (or published), rebuilt from the current item and its audit
 * log (newest first): every later change is undone with its entry's ``before``.  Null: never approved. */
export function approvedVersion(current: Record<string, unknown>, entries: AuditEntry[]): Record<string, unknown> | null {
  const snapshot: Record<string, unknown> = { ...current }
  for (const e of entries) {
    if (APPROVALS.has(e.action)) return snapshot
    Object.assign(snapshot, e.before ?? {})
  }
  return null
}
