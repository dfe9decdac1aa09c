// The Chinese text of the shell every page shares (top bar, navigation, common answers).

export const C = {
  product: '桐乡工业全域治理云图',
  productShort: '全域治理云图',
  dash: '—',
  ok: '确定',
  cancel: '取消',
  fillIn: (label) => `请填写：${label}`,
  networkError: '无法连接服务器，请检查网络后重试',
  requestFailed: (status) => `请求未能完成（代码 ${status}），请稍后重试`,
  loginFirst: '请先登录',
  login: '登录',
  logout: '退出',
  loggingOut: '正在退出…',
  menu: '菜单',
  closeMenu: '关闭菜单',
  mainNav: '主导航',
  skipToMain: '跳到主要内容',
  skipToMap: '跳到地图',
  // The role and unit only where the person's name does not already say them.
  whoIs: (name, role, unit) => {
    const extra = [role, unit].filter((x) => x && !name.includes(x));
    return extra.length ? `${name}（${extra.join('，')}）` : name;
  },
  notForRole: (role) => `当前账号（${role}）不能使用此页面。请从上方导航进入本角色可用的页面，或退出后换用其他账号登录。`,
  nav: {
    map: '一图',
    progress: '一表',
    enterprises: '一库',
    upload: '数据上传',
    officer: '区块方案',
    reporting: '月报报送',
    review: '方案审核',
    planner: '方案一览',
    evaluation: '亩均评价',
    regulation: '规范管理',
    admin: '系统管理',
  },
};
