export const STATUS_NAMES: Record<string, string> = {
  draft: '草稿', pending_review: '待审核', approved: '已通过', rejected: '已驳回', published: '已发布',
  withdrawn: '已撤回', expired: '已过期',
}
export const STATUS_TYPES: Record<string, 'info' | 'warning' | 'success' | 'danger' | 'primary'> = {
  draft: 'info', pending_review: 'warning', approved: 'primary', rejected: 'danger', published: 'success',
  withdrawn: 'info', expired: 'info',
}
export const KIND_NAMES: Record<string, string> = { notice: '通知', article: '图文', image: '图片', video: '视频', link: '链接' }
export const SOURCE_NAMES: Record<string, string> = {
  new_qr_follow: '扫码关注', new_qr_scan: '已关注扫码', new_menu: '菜单订阅', new_page: '网页订阅',
  new_text: '文字订阅', new_restored: '重新关注',
}
/** How the fans of a scope subscribed (fan attributes' source_mix, keys as the API's SourceMix names them). */
export const SUBSCRIBE_SOURCE_NAMES: Record<string, string> = {
  qr: '扫码订阅', menu: '菜单订阅', text: '文字订阅', page: '网页订阅',
}

// Staff, screens and WeChat all live in China time, whatever the office PC's clock says.
const CHINA = 'Asia/Shanghai'
const DATE_TIME = new Intl.DateTimeFormat('zh-CN', { timeZone: CHINA, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hour12: false })
const TIME = new Intl.DateTimeFormat('zh-CN', { timeZone: CHINA, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })

export function when(iso?: string | null): string {
  if (!iso) return '—'
  const p = Object.fromEntries(DATE_TIME.formatToParts(new Date(iso)).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

/** "13:45:10" in China time. */
export function clockTime(iso: string): string {
  return TIME.format(new Date(iso))
}

export function ago(iso?: string | null, now = Date.now()): string {
  if (!iso) return '从未上线'
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000))
  if (s < 60) return '刚刚'
  if (s < 3600) return `${Math.floor(s / 60)} 分钟前`
  if (s < 86400) return `${Math.floor(s / 3600)} 小时前`
  return `${Math.floor(s / 86400)} 天前`
}

/** China calendar day (YYYY-MM-DD), as the analytics API counts days. */
export function chinaDay(d = new Date()): string {
  return new Date(d.getTime() + 8 * 3600000).toISOString().slice(0, 10)
}

export function offlineLong(s: { online: boolean; last_seen?: string | null }, now = Date.now()): boolean {
  return !s.online && (!s.last_seen || now - new Date(s.last_seen).getTime() > 3600000)
}
