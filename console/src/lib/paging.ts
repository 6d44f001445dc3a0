// A list that pages through the admin API's cursors: the first page on load(), the next with load(true).
import { ref, type Ref } from 'vue'

export interface Page<T> { items: T[]; next_cursor?: string | null }

export function usePagedList<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T> | undefined>) {
  const rows = ref([]) as Ref<T[]>
  const cursor = ref<string | null>(null)
  const loading = ref(false)
  async function load(more = false) {
    loading.value = true
    const page = await fetchPage(more ? cursor.value ?? undefined : undefined)
    loading.value = false
    if (!page) return
    rows.value = more ? rows.value.concat(page.items) : page.items
    cursor.value = page.next_cursor ?? null
  }
  return { rows, cursor, loading, load }
}
