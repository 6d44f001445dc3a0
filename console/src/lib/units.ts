import { ref } from 'vue'
import { api, allPages, type Schemas } from '../api/client'

type Unit = Schemas['UnitOut']
const units = ref<Unit[]>([])
let loading: Promise<Unit[]> | null = null

/** Every unit the caller may see (one paged walk per page load, shared by all pages). */
export function useUnits() {
  if (!loading) {
    loading = allPages<Unit>(async (cursor) => (await api.GET('/api/v1/units', { params: { query: { limit: 200, cursor } } })).data, 2000)
      .then((u) => (units.value = u))
  }
  const name = (id?: string | null) => units.value.find((u) => u.unit_id === id)?.name ?? id ?? '—'
  return { units, name, ready: loading }
}

export interface TreeNode { value: string; label: string; children?: TreeNode[] }
export function unitTree(list: Unit[]): TreeNode[] {
  const byId = new Map(list.map((u) => [u.unit_id, { value: u.unit_id, label: u.name, children: [] as TreeNode[] }]))
  const roots: TreeNode[] = []
  for (const u of list) {
    const node = byId.get(u.unit_id)!
    const parent = u.parent_id ? byId.get(u.parent_id) : undefined
    if (parent) parent.children!.push(node)
    else roots.push(node)
  }
  return roots
}
export function resetUnits() { loading = null }
