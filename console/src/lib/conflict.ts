import { ElMessageBox } from 'element-plus'

/** 412 (stale If-Match) or 409 (edited meanwhile): offer to reload the current version and compare. */
export async function offerReload(status: number): Promise<boolean> {
  if (status !== 412 && status !== 409) return false
  try {
    await ElMessageBox.confirm('这条内容已被其他人修改。重新载入最新版本，并与您的修改对比？', '内容已更新',
      { confirmButtonText: '重新载入并对比', cancelButtonText: '取消', type: 'warning' })
    return true
  } catch { return false }
}
