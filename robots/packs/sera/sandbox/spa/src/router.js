// Hash routes (#/customers, ...): the server serves one page, /app/, and the app draws every view.
import { createRouter, createWebHashHistory } from 'vue-router'
import { api, whenSignedOut } from './api.js'
import { discardPending, notify, session } from './store.js'
import CustomerEdit from './views/CustomerEdit.vue'
import CustomerDetail from './views/CustomerDetail.vue'
import CustomerList from './views/CustomerList.vue'
import SignIn from './views/SignIn.vue'
import Verify from './views/Verify.vue'
import WorkOrderDetail from './views/WorkOrderDetail.vue'
import WorkOrderList from './views/WorkOrderList.vue'
import WorkOrderNew from './views/WorkOrderNew.vue'

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/customers' },
    { path: '/login', component: SignIn, meta: { public: true } },
    { path: '/verify', component: Verify, meta: { public: true } },
    { path: '/customers', component: CustomerList },
    { path: '/customers/:id', component: CustomerDetail },
    { path: '/customers/:id/edit', component: CustomerEdit },
    { path: '/work-orders', component: WorkOrderList },
    { path: '/work-orders/new', component: WorkOrderNew },
    { path: '/work-orders/:id', component: WorkOrderDetail },
    { path: '/:rest(.*)*', redirect: '/customers' },
  ],
})

export async function loadSession () {
  try {
    const data = await api('session')
    Object.assign(session, { user: data.user, tenant: data.tenant, timeZone: data.time_zone,
      undoMs: data.undo_ms ?? session.undoMs })
  } catch (error) {
    session.user = null
  }
  session.checked = true
}

router.beforeEach(async (to) => {
  discardPending() // an open undo window belongs to the page being left: its edit is lost
  if (!session.checked) await loadSession()
  if (!to.meta.public && !session.user) {
    if (to.path !== '/login') notify('Please sign in to continue.')
    return { path: '/login', query: to.fullPath !== '/customers' ? { next: to.fullPath } : {} }
  }
  if (to.path === '/login' && session.user) return '/customers'
  return true
})

whenSignedOut((message) => {
  session.user = null
  notify(message || 'Your session expired. Please sign in again.')
  router.push({ path: '/login', query: { next: router.currentRoute.value.fullPath } })
})
