// The WeChat custom menu as the editor holds it, and the rules menu/create enforces (checked here first,
// so staff see the problem next to the button instead of a refusal from WeChat; the API checks again).
export type MenuKey = 'MY_SCREENS' | 'LATEST' | 'HOW_TO_SUBSCRIBE'
export interface Leaf { name: string; type: 'click' | 'view'; key?: MenuKey; url?: string }
export interface Parent { name: string; sub_button: Leaf[] }
export type Button = Leaf | Parent
export interface Menu { button: Button[] }

export const MAX_BUTTONS = 3
export const MAX_SUB_BUTTONS = 5
export const TOP_NAME_BYTES = 16
export const SUB_NAME_BYTES = 60
/** The click keys the account's callback answers (chalicelib/services/wechat_events.py). */
export const KEY_NAMES: Record<MenuKey, string> = { MY_SCREENS: '我的大屏（已订阅的屏幕）', LATEST: '最新内容', HOW_TO_SUBSCRIBE: '如何订阅' }

export const isParent = (b: Button): b is Parent => Array.isArray((b as Parent).sub_button)
export const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length

/** Problems of one button, keyed by where they show ('name', 'key', 'url', 'sub_button'). */
export function buttonErrors(b: Button, top: boolean): Record<string, string> {
  const e: Record<string, string> = {}
  const limit = top ? TOP_NAME_BYTES : SUB_NAME_BYTES
  const name = b.name.trim()
  if (!name) e.name = '请填写名称'
  else if (utf8Bytes(name) > limit) e.name = `名称太长：最多 ${limit} 字节（约 ${Math.floor(limit / 3)} 个汉字）`
  if (isParent(b)) {
    if (!top) e.sub_button = '子菜单不能再有下级'
    else if (!b.sub_button.length) e.sub_button = '请至少添加一个子菜单，或改为普通菜单'
    else if (b.sub_button.length > MAX_SUB_BUTTONS) e.sub_button = `最多 ${MAX_SUB_BUTTONS} 个子菜单`
  } else if (b.type === 'click') {
    if (!b.key || !(b.key in KEY_NAMES)) e.key = '请选择点击后的回复'
  } else if (!/^https?:\/\/[^\s<>"']+$/.test(b.url?.trim() ?? '')) e.url = '请填写以 https:// 开头的网址'
  else if (utf8Bytes(b.url!.trim()) > 1024) e.url = '网址太长（最多 1024 字节）'
  return e
}

/** Every problem, by path ('0', '1.2'), empty when the menu can be published. */
export function menuErrors(m: Menu): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  if (!m.button.length) out.menu = { button: '请至少添加一个菜单' }
  if (m.button.length > MAX_BUTTONS) out.menu = { button: `最多 ${MAX_BUTTONS} 个一级菜单` }
  m.button.forEach((b, i) => {
    const e = buttonErrors(b, true)
    if (Object.keys(e).length) out[String(i)] = e
    if (isParent(b)) b.sub_button.forEach((s, j) => {
      const se = buttonErrors(s, false)
      if (Object.keys(se).length) out[`${i}.${j}`] = se
    })
  })
  return out
}

/** The body for POST /accounts/{appid}/menu: WeChat's shape, names trimmed, only the fields a button uses. */
export function toBody(m: Menu): Menu {
  const leaf = (b: Leaf): Leaf => b.type === 'click'
    ? { type: 'click', name: b.name.trim(), key: b.key }
    : { type: 'view', name: b.name.trim(), url: b.url?.trim() }
  return { button: m.button.map((b) => isParent(b) ? { name: b.name.trim(), sub_button: b.sub_button.map(leaf) } : leaf(b)) }
}

/** A menu as the API returns it, made editable (unknown types become a click on 最新内容, to be reviewed). */
export function fromApi(raw: unknown): Menu {
  const buttons = ((raw as { button?: unknown[] })?.button ?? []) as Record<string, unknown>[]
  const leaf = (b: Record<string, unknown>): Leaf => b.type === 'view'
    ? { name: String(b.name ?? ''), type: 'view', url: String(b.url ?? '') }
    : { name: String(b.name ?? ''), type: 'click', key: (b.key as MenuKey) ?? 'LATEST' }
  return { button: buttons.map((b) => Array.isArray(b.sub_button)
    ? { name: String(b.name ?? ''), sub_button: (b.sub_button as Record<string, unknown>[]).map(leaf) }
    : leaf(b)) }
}

/** The API's 400 names a field such as 'button.1.sub_button.0.url': the editor's path and field. */
export function apiErrorPath(field: string | undefined): { path: string; field: string } | null {
  const m = /^button(?:\.(\d+))?(?:\.sub_button(?:\.(\d+))?)?(?:\.(\w+))?$/.exec(field ?? '')
  if (!m) return null
  const [, i, j, f] = m
  if (i === undefined) return { path: 'menu', field: 'button' }
  return { path: j !== undefined ? `${i}.${j}` : i, field: f ?? (field!.includes('sub_button') ? 'sub_button' : 'name') }
}
