// The per-channel push forecast and status as staff read them. The shapes are the API's own
// (PushForecastOut, PushStatusOut in the OpenAPI document), so a change there fails the build.
import type { Schemas } from '../api/client'

export type Forecast = Schemas['PushForecastOut']
export type ForecastAccount = Schemas['ForecastAccount']
export type PushStatus = Schemas['PushStatusOut']
type Channels = { template: number; subscribe: number; custom: number; unread: number }
type Skips = { not_following: number; no_channel: number; channel_stopped: number; cross_unit_policy: number }

/** Why a fan is not reached, in the words of push_policy.SKIP_REASONS. */
export const SKIP_NAMES: Record<keyof Skips, string> = {
  not_following: '已取消关注', no_channel: '公众号无推送渠道', channel_stopped: '渠道已被拒收', cross_unit_policy: '公众号不接收跨单位内容',
}

export function channelTotals(f: Forecast): Channels {
  const t = { template: 0, subscribe: 0, custom: 0, unread: 0 }
  for (const a of f.accounts ?? []) {
    for (const k of Object.keys(t) as (keyof Channels)[]) t[k] += a.channels?.[k] ?? 0
  }
  return t
}

export function skipTotals(f: Forecast): Skips {
  const t = { not_following: 0, no_channel: 0, channel_stopped: 0, cross_unit_policy: 0 }
  for (const a of f.accounts ?? []) {
    for (const k of Object.keys(t) as (keyof Skips)[]) t[k] += a.skipped?.[k] ?? 0
  }
  return t
}

/** "将推送给约 N 位居民：模板消息 N1，客服消息 N2，未读 N3" (订阅通知 only when used; the skipped after it). */
export function forecastText(f: Forecast | null | undefined): string {
  if (!f) return '暂无推送预估'
  const t = channelTotals(f)
  const reached = t.template + t.subscribe + t.custom + t.unread
  const parts = [`模板消息 ${t.template}`]
  if (t.subscribe) parts.push(`订阅通知 ${t.subscribe}`)
  parts.push(`客服消息 ${t.custom}`, `未读 ${t.unread}`)
  return `将推送给约 ${reached} 位居民：${parts.join('，')}${skippedText(skipTotals(f))}`
}

/** "；另有 K 位不推送（已取消关注 a，公众号无推送渠道 b）", or nothing when nobody is skipped. */
export function skippedText(s: Partial<Skips> | null | undefined): string {
  const parts = (Object.keys(SKIP_NAMES) as (keyof Skips)[]).filter((k) => (s?.[k] ?? 0) > 0)
    .map((k) => `${SKIP_NAMES[k]} ${s![k]}`)
  if (!parts.length) return ''
  const total = (Object.keys(SKIP_NAMES) as (keyof Skips)[]).reduce((n, k) => n + (s?.[k] ?? 0), 0)
  return `；另有 ${total} 位不推送（${parts.join('，')}）`
}

/** Accounts that can carry nothing: the push would reach nobody through them. */
export function silentAccounts(f: Forecast | null | undefined): ForecastAccount[] {
  return (f?.accounts ?? []).filter((a) => a.has_channel === false)
}

/** Share of the planned fans the job has finished with (sent, left unread, failed, stopped or skipped). */
export function progressPercent(s: PushStatus | null | undefined): number {
  if (!s || !s.planned) return s?.state === 'done' ? 100 : 0
  const finished = s.sent_total + s.unread + s.failed + s.stopped + s.skipped_total
  return Math.min(100, Math.round((finished / s.planned) * 100))
}

export type DraftForecast = Schemas['ContentForecastOut']

/** The editor's line under the push switch, before publishing (POST /content/forecast's answer). */
export function draftForecastText(d: DraftForecast | null | undefined): string {
  if (!d) return '正在计算推送预估…'
  if (!d.screens) return '投放目标下暂无屏幕，发布后不会推送给任何居民'
  let text = forecastText(d.forecast)
  if (d.method === 'counters') text += '（按各屏粉丝数估算，同时订阅多块屏的居民会重复计数）'
  else if (!d.forecast.complete) text += '（部分为估算）'
  if (d.no_push_channel) {
    const names = silentAccounts(d.forecast).map((a) => a.name || a.appid)
    text += `。注意：${names.join('、') || '所选屏幕的公众号'}没有可用的推送渠道，开启推送将无法发布`
  }
  return text
}
