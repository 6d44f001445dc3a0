import { describe, expect, it } from 'vitest'
import { forecastText, progressPercent, silentAccounts, skippedText, type Forecast, type ForecastAccount, type PushStatus } from '../src/lib/forecast'
import { describeWindow, playsAt, validityError, windowError } from '../src/lib/windows'
import { changedFields, rebuild, textDiff } from '../src/lib/diff'
import { apiErrorPath, buttonErrors, fromApi, menuErrors, toBody, utf8Bytes, type Menu } from '../src/lib/menu'

describe('forecast text', () => {
  // the shape publish returns in push_status.forecast (chalicelib/services/push_outcomes.py: forecast)
  const skipped = (o: Partial<Record<'not_following' | 'no_channel' | 'channel_stopped' | 'cross_unit_policy', number>> = {}) =>
    ({ not_following: 0, no_channel: 0, channel_stopped: 0, cross_unit_policy: 0, ...o })
  const account = (appid: string, o: Partial<ForecastAccount>): ForecastAccount => ({
    appid, name: appid, account_type: 'service', reach: 'push', own_content: true, has_channel: true, recipients: 0,
    channels: { template: 0, subscribe: 0, custom: 0, unread: 0 }, skipped: skipped(), estimated: 0, ...o })
  const f: Forecast = {
    recipients: 1240, complete: true, computed_at: '2026-12-01T05:45:10+00:00',
    accounts: [
      account('wx1', { recipients: 1000, channels: { template: 800, subscribe: 0, custom: 150, unread: 50 } }),
      account('wx2', { account_type: 'subscription', reach: 'unread', own_content: false, has_channel: false, recipients: 240,
        channels: { template: 0, subscribe: 0, custom: 0, unread: 234 }, skipped: skipped({ not_following: 6 }) }),
    ],
  }
  it('sums channels across accounts in the wording staff expect, N being the fans reached', () => {
    expect(forecastText({ ...f, accounts: [f.accounts[0]] })).toBe('将推送给约 1000 位居民：模板消息 800，客服消息 150，未读 50')
  })
  it('adds the skipped fans with their reason after the channels', () => {
    expect(forecastText(f)).toBe('将推送给约 1234 位居民：模板消息 800，客服消息 150，未读 284；另有 6 位不推送（已取消关注 6）')
  })
  it('names subscribe messages only when used', () => {
    const g = { ...f, accounts: [account('wx1', { channels: { template: 1, subscribe: 2, custom: 3, unread: 4 } })] }
    expect(forecastText(g)).toBe('将推送给约 10 位居民：模板消息 1，订阅通知 2，客服消息 3，未读 4')
  })
  it('says so when there is no forecast', () => {
    expect(forecastText(null)).toBe('暂无推送预估')
  })
  it('lists accounts without a channel', () => {
    expect(silentAccounts(f).map((a) => a.appid)).toEqual(['wx2'])
  })
  it('counts progress as the server does: sent, unread, failed, stopped and skipped against planned', () => {
    const status: PushStatus = { job_id: 'c1:2', state: 'sending', forecast: f, planned: 200, sent: { template: 50, subscribe: 0, custom: 10 },
      sent_total: 60, unread: 20, unread_cross_unit: 5, delivered: 40, read: 3, failed: 5, stopped: 5, skipped: skipped({ no_channel: 10 }),
      skipped_total: 10 }
    expect(progressPercent(status)).toBe(50)
    expect(progressPercent({ ...status, planned: 0, state: 'done' })).toBe(100)
    expect(progressPercent(null)).toBe(0)
    expect(skippedText(status.skipped)).toBe('；另有 10 位不推送（公众号无推送渠道 10）')
  })
})

describe('windows', () => {
  it('validates', () => {
    expect(windowError({ days: [], start: '08:00', end: '09:00' })).toBe('请选择至少一天')
    expect(windowError({ days: [1], start: '09:00', end: '08:00' })).toBe('结束时间必须晚于开始时间')
    expect(windowError({ days: [1], start: '9:00', end: '10:00' })).toBe('时间格式应为 HH:MM')
    expect(windowError({ days: [1, 7], start: '00:00', end: '24:00' })).toBeNull()
    expect(validityError('2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z')).toBe('失效时间必须晚于生效时间')
    expect(validityError(null, '2026-01-01T00:00:00Z')).toBeNull()
  })
  it('describes', () => {
    expect(describeWindow({ days: [5, 1, 2, 3, 4], start: '08:00', end: '18:00' })).toBe('周一至周五 08:00–18:00')
    expect(describeWindow({ days: [6, 7], start: '09:30', end: '12:00' })).toBe('周六、周日 09:30–12:00')
  })
  it('plays in China time', () => {
    const w = [{ days: [1], start: '08:00', end: '09:00' }]
    expect(playsAt(w, new Date('2026-11-30T00:30:00Z'))).toBe(true) // Monday 08:30 in Beijing
    expect(playsAt(w, new Date('2026-11-30T01:30:00Z'))).toBe(false)
    expect(playsAt([], new Date())).toBe(true)
  })
})

describe('review diff', () => {
  it('names changed fields only', () => {
    const before = { title: '旧标题', body: 'a', push: true, targets: { units: ['u1'] } }
    const after = { title: '新标题', body: 'a', push: true, targets: { units: ['u1', 'u2'] } }
    expect(changedFields(before, after).map((c) => c.label)).toEqual(['标题', '投放目标'])
    expect(changedFields(null, { title: 'x' }).map((c) => c.field)).toContain('title')
    // the API's [] and the editor's null, and key order, are no change
    expect(changedFields({ media: [], targets: { screens: [], units: ['u'] } },
      { media: null, targets: { units: ['u'], screens: [] } })).toEqual([])
  })
  it('diffs Chinese per character and rebuilds both sides', () => {
    const pieces = textDiff('今天天气很好', '今天天气不好')
    expect(pieces).toEqual([
      { kind: 'same', text: '今天天气' }, { kind: 'removed', text: '很' }, { kind: 'added', text: '不' },
      { kind: 'same', text: '好' }])
    for (const [a, b] of [['科普 展览 开放', '科普 讲座 开放 时间'], ['', 'new'], ['old', '']]) {
      const p = textDiff(a, b)
      expect(rebuild(p, 'before')).toBe(a)
      expect(rebuild(p, 'after')).toBe(b)
    }
  })
})

describe('last approved revision', () => {
  it('undoes every change made after the approval', async () => {
    const { approvedVersion } = await import('../src/lib/diff')
    const current = { title: 'C', body: 'b2', status: 'pending_review' }
    const entries = [
      { action: 'content.submit', before: { status: 'draft' }, after: { status: 'pending_review' }, at: '4' },
      { action: 'content.update', before: { title: 'B', body: 'b1' }, after: { title: 'C', body: 'b2' }, at: '3' },
      { action: 'content.publish', before: { status: 'approved' }, after: { status: 'published' }, at: '2' },
      { action: 'content.update', before: { title: 'A' }, after: { title: 'B' }, at: '1' },
    ]
    expect(approvedVersion(current, entries)).toMatchObject({ title: 'B', body: 'b1' })
    expect(approvedVersion(current, entries.slice(0, 2))).toBeNull()
  })
})

describe('times are China time', () => {
  it('formats in Asia/Shanghai whatever the machine zone', async () => {
    const { when, clockTime } = await import('../src/lib/format')
    expect(when('2026-12-01T05:45:10Z')).toBe('2026-12-01 13:45')
    expect(clockTime('2026-12-01T05:45:10Z')).toBe('13:45:10')
  })
})

describe('menu editor rules', () => {
  const ok: Menu = { button: [
    { type: 'click', name: '最新内容', key: 'LATEST' },
    { name: '我的', sub_button: [{ type: 'click', name: '我的大屏', key: 'MY_SCREENS' }, { type: 'view', name: '官网', url: 'https://a.example.cn/' }] },
  ] }
  it('accepts the product menu and sends WeChat\'s shape', () => {
    expect(menuErrors(ok)).toEqual({})
    expect(toBody({ button: [{ type: 'view', name: ' 官网 ', url: ' https://a.cn ', key: 'LATEST' }] }))
      .toEqual({ button: [{ type: 'view', name: '官网', url: 'https://a.cn' }] })
  })
  it('caps buttons, sub-buttons and name bytes as menu/create does', () => {
    const four = { button: [0, 1, 2, 3].map((i) => ({ type: 'click' as const, name: `菜单${i}`, key: 'LATEST' as const })) }
    expect(menuErrors(four).menu.button).toContain('最多 3')
    const six: Menu = { button: [{ name: '多', sub_button: [0, 1, 2, 3, 4, 5].map(() => ({ type: 'click' as const, name: '子', key: 'LATEST' as const })) }] }
    expect(menuErrors(six)['0'].sub_button).toContain('最多 5')
    expect(utf8Bytes('一二三四五')).toBe(15)
    expect(buttonErrors({ type: 'click', name: '一二三四五', key: 'LATEST' }, true)).toEqual({})
    expect(buttonErrors({ type: 'click', name: '一二三四五六', key: 'LATEST' }, true).name).toContain('16 字节')
    expect(buttonErrors({ type: 'click', name: '一二三四五六', key: 'LATEST' }, false)).toEqual({})
  })
  it('needs a known key for a click and an http(s) url for a view', () => {
    expect(buttonErrors({ type: 'click', name: 'a', key: 'PRIZES' as never }, true).key).toBeTruthy()
    expect(buttonErrors({ type: 'view', name: 'a', url: 'javascript:alert(1)' }, true).url).toBeTruthy()
    expect(menuErrors({ button: [{ name: '空', sub_button: [] }] })['0'].sub_button).toBeTruthy()
    expect(menuErrors({ button: [] }).menu.button).toBeTruthy()
  })
  it('reads the API menu back and maps its 400 field to the button', () => {
    expect(fromApi({ button: [{ type: 'click', name: 'x', key: 'LATEST' }, { name: 'y', sub_button: [{ type: 'view', name: 'z', url: 'https://e.cn' }] }] })).toEqual(
      { button: [{ type: 'click', name: 'x', key: 'LATEST' }, { name: 'y', sub_button: [{ type: 'view', name: 'z', url: 'https://e.cn' }] }] })
    expect(apiErrorPath('button.1.sub_button.0.url')).toEqual({ path: '1.0', field: 'url' })
    expect(apiErrorPath('button.0.name')).toEqual({ path: '0', field: 'name' })
    expect(apiErrorPath('button.2.sub_button')).toEqual({ path: '2', field: 'sub_button' })
    expect(apiErrorPath('button')).toEqual({ path: 'menu', field: 'button' })
    expect(apiErrorPath('template_id')).toBeNull()
  })
})

describe('subscription source names', () => {
  it('names every source the API reports in source_mix, in Chinese', async () => {
    // formerly looked up as new_<key> among the daily flows: "qr" has no such flow and showed as "qr"
    const { SUBSCRIBE_SOURCE_NAMES } = await import('../src/lib/format')
    const doc = (await import('../src/api/openapi.json')).default as {
      components: { schemas: Record<string, { properties: Record<string, unknown> }> }
    }
    for (const key of Object.keys(doc.components.schemas.SourceMix.properties)) {
      expect(SUBSCRIBE_SOURCE_NAMES[key], key).toMatch(/[\u4e00-\u9fff]/)
    }
  })
})
