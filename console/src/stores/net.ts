import { defineStore } from 'pinia'

/** Whether the API is reachable: a banner shows while it is not, and reads retry on their own. */
export const useNet = defineStore('net', {
  state: () => ({ offline: false }),
  actions: {
    lost(_retry: () => void) { this.offline = true },
    online() { if (this.offline) this.offline = false },
  },
})
