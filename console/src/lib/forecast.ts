// The per-channel push forecast as staff read it (shape: branch `publish`, PushForecastOut).
export interface ForecastChannels { template?: number; subscribe?: number; custom?: number; unread?: number }
export interface ForecastAccount { appid: string; name?: string; recipients: number; channels: ForecastChannels;
  has_channel?: boolean; estimated?: number }
export interface Forecast { recipients: number; complete: boolean; accounts: ForecastAccount[] }

export function channelTotals(f: Forecast): Required<ForecastChannels> {
  const t = { template: 0, subscribe: 0, custom: 0, unread: 0 }
  for (const a of f.accounts ?? []) {
    for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += a.channels?.[k] ?? 0
  }
  return t
}

/** "将推送给约 N 位居民：模板消息 N1，客服消息 N2，未读 N3" (订阅通知 only when it is used). */
export function forecastText(f: Forecast | null | undefined): string {
  if (!f) return '暂无推送预估'
  const t = channelTotals(f)
  const parts = [`模板消息 ${t.template}`]
  if (t.subscribe) parts.push(`订阅通知 ${t.subscribe}`)
  parts.push(`客服消息 ${t.custom}`, `未读 ${t.unread}`)
  return `将推送给约 ${f.recipients} 位居民：${parts.join('，')}`
}

/** Accounts that can carry nothing: the push would reach nobody through them. */
export function silentAccounts(f: Forecast | null | undefined): ForecastAccount[] {
  return (f?.accounts ?? []).filter((a) => a.has_channel === false)
}
