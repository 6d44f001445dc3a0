import { defineStore } from 'pinia'
import { api, setCsrf, errorOf } from '../api/client'
import type { Schemas } from '../api/client'

type User = Schemas['UserOut']
const ROLE_RANK: Record<string, number> = { viewer: 0, reviewer: 1, editor: 1, admin: 3 }
export const ROLE_NAMES: Record<string, string> = { admin: '管理员', editor: '编辑', reviewer: '审核员', viewer: '查看者' }

export const useSession = defineStore('session', {
  state: () => ({ user: null as User | null, checked: false }),
  getters: {
    roles: (s) => new Set((s.user?.grants ?? []).map((g) => g.role)),
    canEdit(): boolean { return this.roles.has('admin') || this.roles.has('editor') },
    canReview(): boolean { return this.roles.has('admin') || this.roles.has('reviewer') },
    canManage(): boolean { return this.roles.has('admin') },
    topRole(): string {
      return [...this.roles].sort((a, b) => (ROLE_RANK[b] ?? 0) - (ROLE_RANK[a] ?? 0))[0] ?? 'viewer'
    },
  },
  actions: {
    async restore() {
      const r = await api.GET('/api/v1/auth/session')
      if (r.data) { this.user = r.data.user; setCsrf(r.data.csrf_token) } else this.user = null
      this.checked = true
      return !!this.user
    },
    async login(username: string, password: string) {
      const r = await api.POST('/api/v1/auth/login', { body: { username, password } })
      if (!r.data) return errorOf(r)
      this.user = r.data.user
      setCsrf(r.data.csrf_token)
      this.checked = true
      return null
    },
    adopt(user: User, csrf: string) { this.user = user; setCsrf(csrf); this.checked = true },
    async logout() {
      await api.POST('/api/v1/auth/logout')
      this.user = null
      setCsrf('')
    },
  },
})
