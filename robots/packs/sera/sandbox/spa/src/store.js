// App-wide state: the signed-in user, and the one notification (a Vuetify snackbar) with its undo window.
import { reactive } from 'vue'

export const SPINNER_DELAY_MS = 200 // a spinner shows only for a load that takes longer than this

// undoMs: how long an edit can be undone (the portal says, at sign-in); it is saved when its notification closes.
export const session = reactive({ user: null, tenant: null, timeZone: 'UTC', undoMs: 5000, checked: false })

export const notice = reactive({ show: false, text: '', color: undefined, timeout: -1, undoable: false, serial: 0 })

let pending = null // { commit, revert, discard } while an undo window is open

export function notify (text, { color, timeout = -1 } = {}) {
  discardPending()
  Object.assign(notice, { show: true, text, color, timeout, undoable: false, serial: notice.serial + 1 })
}

export function clearNotice () {
  if (!pending) notice.show = false
}

// An edit that is saved only when its notification closes (timeout or Dismiss); Undo reverts it, and leaving the
// page first (another route, a reload, another site) loses it, as a real undo window does.
export function offerUndo (text, commit, revert, discard) {
  discardPending()
  pending = { commit, revert, discard }
  Object.assign(notice, { show: true, text, color: undefined, timeout: session.undoMs, undoable: true,
    serial: notice.serial + 1 })
}

export function noticeClosed () {
  notice.show = false
  const closing = pending
  pending = null
  if (closing) closing.commit()
}

export function undo () {
  const closing = pending
  pending = null
  notice.show = false
  if (closing) closing.revert()
}

export function discardPending () {
  if (pending) {
    const closing = pending
    pending = null
    notice.show = false
    closing.discard()
  }
}

export function hasPending () { return pending !== null }

// Between the password and the code: which second factor the portal asks for.
export const pendingSignIn = reactive({ mfa: 'totp', destination: '', next: '' })

// The customer edit inside its undo window (the detail page shows it already), and the last one saved.
export const customerEdit = reactive({ id: null, values: null, saved: null })
