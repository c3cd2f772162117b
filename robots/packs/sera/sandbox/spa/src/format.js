// How the portal shows values (as the server-rendered pages do): money, phones, instants in the tenant's zone.
import { session } from './store.js'

export const TYPE_LABELS = { residential: 'Residential', commercial: 'Commercial' }
export const STATUS_LABELS = { active: 'Active', inactive: 'Inactive', on_hold: 'On Hold' }

export function money (cents) {
  if (cents === null || cents === undefined) return ''
  const sign = cents < 0 ? '-' : ''
  const abs = Math.abs(cents)
  return `${sign}$${Math.floor(abs / 100).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`
}

export function phone (digits) {
  if (!digits) return ''
  return `(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`
}

export function localDateTime (utc) {
  if (!utc) return ''
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: session.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: 'numeric', minute: '2-digit',
    hour12: true,
  }).formatToParts(new Date(utc)).map((p) => [p.type, p.value]))
  return `${parts.month}/${parts.day}/${parts.year} ${parts.hour}:${parts.minute} ${parts.dayPeriod}`
}
