// Image and video upload: ask the API for a presigned POST (content-addressed by SHA-256), then send the
// file straight to storage with progress.  The same file uploaded twice is stored once ("exists").
import { api, errorOf } from '../api/client'

export async function sha256Hex(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer())
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export async function upload(unitId: string, file: File, progress: (pct: number) => void) {
  const sha256 = await sha256Hex(file)
  const r = await api.POST('/api/v1/media/uploads', { body: { unit_id: unitId, sha256, size: file.size, type: file.type as never } })
  if (!r.data) throw new Error(errorOf(r).message)
  const form = r.data.upload
  if (form) {
    await new Promise<void>((ok, fail) => {
      const data = new FormData()
      for (const [k, v] of Object.entries(form.fields)) data.append(k, String(v))
      data.append('file', file)
      const xhr = new XMLHttpRequest()
      xhr.open('POST', form.url)
      xhr.upload.onprogress = (e) => e.lengthComputable && progress(Math.round((e.loaded / e.total) * 100))
      xhr.onload = () => (xhr.status < 300 ? ok() : fail(new Error(`上传失败（${xhr.status}）`)))
      xhr.onerror = () => fail(new Error('上传失败：网络错误'))
      xhr.send(data)
    })
  }
  progress(100)
  return { sha256, size: file.size, type: file.type, key: r.data.key }
}
