// Scan-to-sign-in over the admin API (POST /api/v1/auth/wechat…, see the OpenAPI document, tag auth).
import { getCsrf } from '../api/client'
import type { Schemas } from '../api/client'

export interface ScanTicket { scene: string; poll_token?: string | null; qr_url: string; expires_at: string; status: string }
export interface ScanPoll { status: string; user?: Schemas['UserOut']; csrf_token?: string }

async function post<T>(path: string, body: unknown): Promise<{ status: number; data: T | null }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' }
  if (getCsrf()) headers['X-CSRF-Token'] = getCsrf()
  const r = await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) })
  return { status: r.status, data: r.ok ? ((await r.json()) as T) : null }
}

/** Thrown when the API refuses a start: its message is for the person at the login page (Chinese). */
export class ScanRefused extends Error {}

export function startRefusal(status: number): string | null {
  if (status === 429) return '扫码登录请求过于频繁（同一网络每分钟最多 10 次），请稍候一分钟再试，或使用密码登录'
  if (status === 502 || status === 503) return '微信暂时无法生成二维码，请稍后重试或使用密码登录'
  return null
}

export async function startScan(purpose: 'login' | 'bind'): Promise<ScanTicket | null> {
  const r = await post<ScanTicket>(purpose === 'bind' ? '/api/v1/auth/wechat/bind' : '/api/v1/auth/wechat', {})
  const refusal = startRefusal(r.status)
  if (refusal) throw new ScanRefused(refusal)
  return r.data
}

export async function pollScan(t: ScanTicket): Promise<ScanPoll> {
  const r = await post<ScanPoll>(`/api/v1/auth/wechat/${encodeURIComponent(t.scene)}/poll`, { poll_token: t.poll_token })
  if (r.status === 404 || r.status === 410) return { status: 'expired' }
  return r.data ?? { status: 'waiting' }
}
