import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/theme-chalk/el-message.css'
import 'element-plus/theme-chalk/el-message-box.css'
import './style.css'
import App from './App.vue'
import { router } from './router'
import { whenSignedOut } from './api/client'
import { useSession } from './stores/session'
import { useNet } from './stores/net'

const app = createApp(App)
app.use(createPinia())
app.use(router)
whenSignedOut(() => {
  const session = useSession()
  session.user = null
  if (router.currentRoute.value.name !== 'login')
    router.push({ name: 'login', query: { next: router.currentRoute.value.fullPath } })
})
// A page's code that cannot be fetched (the network is gone): show the banner, and once the CDN answers
// again load that page afresh (a failed module import is not retried by the browser).
let reloading = false
function reloadWhenBack(path: string) {
  useNet().lost(() => {})
  if (reloading) return
  reloading = true
  const retry = () => fetch(location.pathname, { method: 'HEAD', cache: 'no-store' })
    .then(() => { location.hash = path; location.reload() }, () => window.setTimeout(retry, 2000))
  window.setTimeout(retry, 1000)
}
router.onError((error, to) => {
  console.warn('page failed to load', String(error))
  if (!/import|module|fetch|preload|chunk|resolve component/i.test(String(error))) throw error
  reloadWhenBack(to.fullPath)
})
window.addEventListener('vite:preloadError', (event) => {
  event.preventDefault()
  reloadWhenBack(router.currentRoute.value.fullPath)
})
app.mount('#app')
