import { createRouter, createWebHashHistory } from 'vue-router'
import { useSession } from './stores/session'
import Layout from './views/Layout.vue'
import Login from './views/Login.vue'
import Home from './views/Home.vue'

// Hash history: the CDN serves one index.html under /console/ with no rewrite rules.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/login', name: 'login', component: Login, meta: { public: true } },
    {
      path: '/', component: Layout, children: [
        { path: '', name: 'home', component: Home, meta: { title: '首页' } },
        { path: 'screens', name: 'screens', component: () => import('./views/Screens.vue'), meta: { title: '屏幕' } },
        { path: 'screens/:id', name: 'screen', component: () => import('./views/ScreenDetail.vue'), meta: { title: '屏幕详情' } },
        { path: 'wall', name: 'wall', component: () => import('./views/Wall.vue'), meta: { title: '屏幕墙' } },
        { path: 'content', name: 'content', component: () => import('./views/ContentList.vue'), meta: { title: '内容' } },
        { path: 'content/new', name: 'content-new', component: () => import('./views/ContentEditor.vue'), meta: { title: '新建内容' } },
        { path: 'content/:id/edit', name: 'content-edit', component: () => import('./views/ContentEditor.vue'), meta: { title: '编辑内容' } },
        { path: 'content/:id', name: 'content-view', component: () => import('./views/ContentReview.vue'), meta: { title: '内容详情' } },
        { path: 'analytics', name: 'analytics', component: () => import('./views/Analytics.vue'), meta: { title: '粉丝与对比' } },
        { path: 'settings/:tab?', name: 'settings', component: () => import('./views/Settings.vue'), meta: { title: '设置' } },
      ],
    },
  ],
})

router.beforeEach(async (to) => {
  const session = useSession()
  if (!session.checked) await session.restore()
  if (!to.meta.public && !session.user) return { name: 'login', query: { next: to.fullPath } }
  if (to.name === 'login' && session.user) return { name: 'home' }
})
