// A load with a spinner that appears only when the load takes longer than SPINNER_DELAY_MS, and goes when it ends.
import { ref } from 'vue'
import { SPINNER_DELAY_MS } from './store.js'

export function useLoading () {
  const loading = ref(false)
  const spinner = ref(false)
  let serial = 0
  async function run (work) {
    const mine = ++serial
    loading.value = true
    const timer = setTimeout(() => { if (mine === serial) spinner.value = true }, SPINNER_DELAY_MS)
    try {
      return await work()
    } finally {
      clearTimeout(timer)
      if (mine === serial) {
        loading.value = false
        spinner.value = false
      }
    }
  }
  return { loading, spinner, run }
}
