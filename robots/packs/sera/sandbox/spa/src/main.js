// Vue 3 + Vuetify 3, the components the app uses registered by name (tree-shaken), SVG icons (no font files).
import { createApp } from 'vue'
import { createVuetify } from 'vuetify'
import {
  VAlert, VApp, VAppBar, VAppBarTitle, VAutocomplete, VBtn, VCard, VCardActions, VCardText, VCardTitle, VChip, VCol,
  VContainer, VDataTable, VDataTableServer, VDatePicker, VDivider, VForm, VList, VListItem, VMain, VMenu,
  VNumberInput, VProgressCircular, VRow, VSelect, VSnackbar, VSpacer, VTable, VTextarea, VTextField, VTimePicker,
  VToolbar, VToolbarTitle,
} from 'vuetify/components'
import { aliases, mdi } from 'vuetify/iconsets/mdi-svg'
import 'vuetify/styles'
import App from './App.vue'
import { router } from './router.js'

const vuetify = createVuetify({
  components: {
    VAlert, VApp, VAppBar, VAppBarTitle, VAutocomplete, VBtn, VCard, VCardActions, VCardText, VCardTitle, VChip,
    VCol, VContainer, VDataTable, VDataTableServer, VDatePicker, VDivider, VForm, VList, VListItem, VMain, VMenu,
    VNumberInput, VProgressCircular, VRow, VSelect, VSnackbar, VSpacer, VTable, VTextarea, VTextField,
    VTimePicker, VToolbar, VToolbarTitle,
  },
  icons: { defaultSet: 'mdi', aliases, sets: { mdi } },
})

createApp(App).use(router).use(vuetify).mount('#app')
