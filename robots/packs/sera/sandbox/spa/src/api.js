// The JSON endpoints under ./api/ (relative to the page, so /t/<tenant>/app/ reaches its tenant's data).
import { reactive } from 'vue'

export class ApiError extends Error {
  constructor (status, body) {
    super((body && body.error) || `HTTP ${status}`)
    this.status = status
    this.body = body || {}
  }
}

// Calls in flight: a component shows its spinner while one of its own is pending (see useLoading).
export const activity = reactive({ pending: 0 })
let onSignedOut = () => {}
export function whenSignedOut (handler) { onSignedOut = handler }

export async function api (path, { method = 'GET', body, params } = {}) {
  const url = new URL('api/' + path, document.baseURI)
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value)
  }
  const headers = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  activity.pending++
  try {
    const response = await fetch(url, {
      method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
    })
    const data = await response.json().catch(() => ({}))
    if (!response.ok) {
      const error = new ApiError(response.status, data)
      if (response.status === 401 && data.signed_out) onSignedOut(error.message)
      throw error
    }
    return data
  } finally {
    activity.pending--
  }
}
