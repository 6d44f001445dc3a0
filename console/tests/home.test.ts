import { describe, expect, it } from 'vitest'
import { startRefusal } from '../src/lib/scan'

describe('scan sign-in refusals', () => {
  it('tells the person at the login page, in Chinese, to wait when the per-address cap answers 429', () => {
    expect(startRefusal(429)).toMatch(/过于频繁.*稍候一分钟/)
    expect(startRefusal(201)).toBeNull()
    expect(startRefusal(502)).toMatch(/微信暂时无法生成二维码/)
  })
})
