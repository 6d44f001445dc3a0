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

export async function startScan(purpose: 'login' | 'bind'): Promise<ScanTicket | null> {
  const r = await post<ScanTicket>(purpose === 'bind' ? '/api/v1/auth/wechat/bind' : '/api/v1/auth/wechat', {})
  return r.data
}

export async function pollScan(t: ScanTicket): Promise<ScanPoll> {
  const r = await post<ScanPoll>(`/api/v1/auth/wechat/${encodeURIComponent(t.scene)}/poll`, { poll_token: t.poll_token })
  if (r.status === 404 || r.status === 410) return { status: 'expired' }
  return r.data ?? { status: 'waiting' }
}
