// The one way the console reaches the admin API: typed from the OpenAPI document, same-origin, cookie session.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths, components } from './schema'
import { useNet } from '../stores/net'

export type Schemas = components['schemas']
export type { paths }
export interface ApiErrorBody { error: { code: string; message: string; field?: string | null } }

let csrfToken = ''
export function setCsrf(token: string) { csrfToken = token }
export function getCsrf() { return csrfToken }

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])
let onUnauthorized: () => void = () => {}
export function whenSignedOut(fn: () => void) { onUnauthorized = fn }

const middleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken)
    return request
  },
  onResponse({ response, request }) {
    useNet().online()
    if (response.status === 401 && !request.url.includes('/auth/login')) onUnauthorized()
    return response
  },
}

/** fetch that survives a lost network: marks the app offline, waits, retries reads; writes fail to the caller. */
async function resilientFetch(input: Request): Promise<Response> {
  const net = useNet()
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(input.clone())
    } catch (err) {
      net.lost(() => {})
      if (!SAFE.has(input.method) || attempt >= 20) throw err
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 8000)))
    }
  }
}

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin', fetch: resilientFetch })
api.use(middleware)

/** The API's error (code, message, field) from an openapi-fetch result, or a generic one. */
export function errorOf(result: { error?: unknown; response: Response }): ApiErrorBody['error'] {
  const body = result.error as ApiErrorBody | undefined
  return body?.error ?? { code: `http_${result.response.status}`, message: `请求失败（${result.response.status}）` }
}

/** Follows ``next_cursor`` until ``want`` items or the end (lists stay paged: the caller asks for more). */
export interface Page<T> { items: T[]; next_cursor?: string | null }

/** A GET on a documented route the console's generated types may not know yet (e.g. analytics on another
 * branch); ``null`` when the route answers 404, so pages show an empty state instead of an error. */
export async function getLoose<T>(path: string): Promise<T | null> {
  const response = await resilientFetch(new Request(path, { credentials: 'same-origin' }))
  useNet().online()
  if (response.status === 404) return null
  if (response.status === 401) { onUnauthorized(); return null }
  if (!response.ok) throw new Error(`请求失败（${response.status}）`)
  return (await response.json()) as T
}

export async function allPages<T>(load: (cursor?: string) => Promise<Page<T> | undefined>, max = 1000): Promise<T[]> {
  const out: T[] = []
  let cursor: string | undefined
  do {
    const page = await load(cursor)
    if (!page) break
    out.push(...page.items)
    cursor = page.next_cursor ?? undefined
  } while (cursor && out.length < max)
  return out
}
