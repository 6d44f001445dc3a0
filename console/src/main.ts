import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/theme-chalk/el-message.css'
import 'element-plus/theme-chalk/el-message-box.css'
import './style.css'
import App from './App.vue'
import { router } from './router'
import { whenSignedOut } from './api/client'
import { useSession } from './stores/session'

const app = createApp(App)
app.use(createPinia())
app.use(router)
whenSignedOut(() => {
  const session = useSession()
  session.user = null
  if (router.currentRoute.value.name !== 'login')
    router.push({ name: 'login', query: { next: router.currentRoute.value.fullPath } })
})
app.mount('#app')
