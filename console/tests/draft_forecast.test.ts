import { describe, expect, it } from 'vitest'
import { draftForecastText, type DraftForecast, type ForecastAccount } from '../src/lib/forecast'

// the shape POST /api/v1/content/forecast returns (chalicelib/services/content_preview.py: forecast)
const account = (appid: string, o: Partial<ForecastAccount>): ForecastAccount => ({
  appid, name: appid, account_type: 'service', reach: 'push', own_content: true, has_channel: true, recipients: 0,
  channels: { template: 0, subscribe: 0, custom: 0, unread: 0 },
  skipped: { not_following: 0, no_channel: 0, channel_stopped: 0, cross_unit_policy: 0 }, estimated: 0, ...o })
const draft = (o: Partial<DraftForecast>, accounts: ForecastAccount[]): DraftForecast => ({
  screens: 2, method: 'exact', no_push_channel: null,
  forecast: { recipients: 0, complete: true, computed_at: null, accounts }, ...o })

describe('forecast before publishing', () => {
  it('gives the per-channel sentence for the targets being edited', () => {
    const d = draft({}, [account('wx1', { recipients: 30, channels: { template: 20, subscribe: 0, custom: 6, unread: 4 } })])
    expect(draftForecastText(d)).toBe('将推送给约 30 位居民：模板消息 20，客服消息 6，未读 4')
  })
  it('says when the numbers come from the screens\' fan counters', () => {
    const d = draft({ method: 'counters', forecast: { recipients: 5000, complete: false, computed_at: null,
      accounts: [account('wx1', { recipients: 5000, estimated: 5000, channels: { template: 5000, subscribe: 0, custom: 0, unread: 0 } })] } }, [])
    expect(draftForecastText(d)).toBe('将推送给约 5000 位居民：模板消息 5000，客服消息 0，未读 0（按各屏粉丝数估算，同时订阅多块屏的居民会重复计数）')
  })
  it('warns that publishing with push on will be refused when no account has a channel', () => {
    const d = draft({ no_push_channel: 'push is on but no channel can carry it' },
      [account('wx9', { name: '无模板号', has_channel: false, skipped: { not_following: 0, no_channel: 3, channel_stopped: 0, cross_unit_policy: 0 } })])
    expect(draftForecastText(d)).toBe('将推送给约 0 位居民：模板消息 0，客服消息 0，未读 0；另有 3 位不推送（公众号无推送渠道 3）。注意：无模板号没有可用的推送渠道，开启推送将无法发布')
  })
  it('says that targets without screens reach nobody, and that it is still computing', () => {
    expect(draftForecastText(draft({ screens: 0 }, []))).toBe('投放目标下暂无屏幕，发布后不会推送给任何居民')
    expect(draftForecastText(null)).toBe('正在计算推送预估…')
  })
})
