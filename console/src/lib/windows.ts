// Weekly play windows and validity, as the content API stores them: ISO weekdays 1=Monday … 7=Sunday, "HH:MM".
export interface WeeklyWindow { days: number[]; start: string; end: string }

export const DAY_NAMES: Record<number, string> = { 1: '周一', 2: '周二', 3: '周三', 4: '周四', 5: '周五', 6: '周六', 7: '周日' }
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/

export function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return h * 60 + m
}

/** Why a window is invalid (Chinese, shown next to the field), or null. */
export function windowError(w: WeeklyWindow): string | null {
  if (!w.days.length) return '请选择至少一天'
  if (w.days.some((d) => d < 1 || d > 7 || !Number.isInteger(d))) return '星期无效'
  if (!HHMM.test(w.start) || !HHMM.test(w.end)) return '时间格式应为 HH:MM'
  if (minutes(w.end) <= minutes(w.start)) return '结束时间必须晚于开始时间'
  return null
}

export function validityError(from: string | null, until: string | null): string | null {
  if (from && until && new Date(until).getTime() <= new Date(from).getTime()) return '失效时间必须晚于生效时间'
  return null
}

/** "周一至周五 08:00–18:00", "周六、周日 09:30–12:00". */
export function describeWindow(w: WeeklyWindow): string {
  const days = [...new Set(w.days)].sort((a, b) => a - b)
  const run = days.length > 2 && days.every((d, i) => i === 0 || d === days[i - 1] + 1)
  const label = run ? `${DAY_NAMES[days[0]]}至${DAY_NAMES[days[days.length - 1]]}` : days.map((d) => DAY_NAMES[d]).join('、')
  return `${label} ${w.start}–${w.end}`
}

/** Whether ``at`` (local wall time of the screens, Asia/Shanghai) falls inside any window; no windows = always. */
export function playsAt(windows: WeeklyWindow[], at: Date): boolean {
  if (!windows.length) return true
  const china = new Date(at.getTime() + (8 * 60 + at.getTimezoneOffset()) * 60000)
  const day = ((china.getDay() + 6) % 7) + 1
  const m = china.getHours() * 60 + china.getMinutes()
  return windows.some((w) => w.days.includes(day) && minutes(w.start) <= m && m < minutes(w.end))
}
