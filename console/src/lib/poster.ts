// The screen's QR code as a print-ready A4 poster: 2480×3508 px = A4 at 300 dpi.
import QRCode from 'qrcode'

export const A4_300DPI = { width: 2480, height: 3508 }

export async function posterCanvas(qrText: string, screenName: string, unitName: string): Promise<HTMLCanvasElement> {
  const { width, height } = A4_300DPI
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const g = canvas.getContext('2d')!
  g.fillStyle = '#ffffff'; g.fillRect(0, 0, width, height)
  g.fillStyle = '#1d4f91'; g.fillRect(0, 0, width, 520)
  g.fillStyle = '#ffffff'; g.textAlign = 'center'
  g.font = 'bold 150px "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif'
  g.fillText('微信扫码 订阅本屏', width / 2, 330)
  const qr = document.createElement('canvas')
  await QRCode.toCanvas(qr, qrText, { width: 1700, margin: 2, errorCorrectionLevel: 'M' })
  g.drawImage(qr, (width - 1700) / 2, 760)
  g.fillStyle = '#1f2d3d'
  g.font = 'bold 120px "Noto Sans CJK SC", "PingFang SC", sans-serif'
  g.fillText(screenName, width / 2, 2720, width - 200)
  g.fillStyle = '#5a6a7d'
  g.font = '80px "Noto Sans CJK SC", "PingFang SC", sans-serif'
  g.fillText(unitName, width / 2, 2880, width - 200)
  g.fillText('扫码即可在微信中收到本屏的科普内容与通知', width / 2, 3200, width - 200)
  return canvas
}

/** PNG with a 300 dpi pHYs chunk, so printers size it as A4. */
export async function posterPng(canvas: HTMLCanvasElement): Promise<Blob> {
  const blob: Blob = await new Promise((ok) => canvas.toBlob((b) => ok(b!), 'image/png'))
  const bytes = new Uint8Array(await blob.arrayBuffer())
  const ppm = Math.round(300 / 0.0254)
  const data = new Uint8Array(9)
  const view = new DataView(data.buffer)
  view.setUint32(0, ppm); view.setUint32(4, ppm); data[8] = 1
  const chunk = pngChunk('pHYs', data)
  const at = 8 + 25 // after the signature and IHDR
  const out = new Uint8Array(bytes.length + chunk.length)
  out.set(bytes.subarray(0, at)); out.set(chunk, at); out.set(bytes.subarray(at), at + chunk.length)
  return new Blob([out], { type: 'image/png' })
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

function crc32(bytes: Uint8Array): number {
  let c = ~0
  for (const b of bytes) {
    c ^= b
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1))
  }
  return ~c >>> 0
}

/** A4 in PDF points (1/72 in): 210 × 297 mm. */
export const A4_POINTS = { width: 595.28, height: 841.89 }

/**
 * The same poster as a one-page A4 PDF: the 300 dpi PNG placed edge to edge, so the PDF and the PNG print
 * identically and the text uses the fonts the browser already drew it with (no CJK font to ship). The screen's
 * name is the document's title. pdf-lib (pure JS) is loaded only when someone downloads a PDF.
 */
export async function posterPdf(png: Blob, screenName: string, qrText: string): Promise<Blob> {
  const { PDFDocument } = await import('pdf-lib')
  const doc = await PDFDocument.create()
  doc.setTitle(`${screenName} · 微信扫码 订阅本屏`)
  doc.setSubject(qrText)
  doc.setKeywords([screenName, '微信扫码 订阅本屏'])
  doc.setCreator('kepuscreen console')
  const page = doc.addPage([A4_POINTS.width, A4_POINTS.height])
  const image = await doc.embedPng(new Uint8Array(await png.arrayBuffer()))
  page.drawImage(image, { x: 0, y: 0, width: A4_POINTS.width, height: A4_POINTS.height })
  const bytes = await doc.save()
  return new Blob([bytes as BlobPart], { type: 'application/pdf' })
}
