// The Chinese text of the 规范管理 page's frame (title, tabs); each tab keeps its own strings module
// (admission.strings.js, market.strings.js, tenants.strings.js, subsidies.strings.js, cases.strings.js).

export const R = {
  title: '规范管理',
  loading: '正在加载…',
  tabs: {
    admission: '项目准入',
    market: '转让与租赁',
    tenants: '厂中厂',
    subsidies: '扶持资金',
    cases: '典型案例',
  },
};
