// The Chinese text of the 规范管理 page's 典型案例 tab (cases.js).

export const K = {
  heading: '典型案例',
  intro: '行动计划要求每季度选取一个区块召开全市现场会，总结推广典型做法。每季度只能确定一个现场会区块。',
  readers: { admin: '您可以标记本季度的现场会区块，补充说明和照片。', other: '您可以查看各季度的现场会区块和典型做法。' },
  export: '导出 Excel',
  empty: '尚未确定现场会区块。',
  caption: '各季度现场会区块',
  cols: { quarter: '季度', block: '区块', unit: '单位', held_on: '现场会日期', notes: '典型做法与说明', photos: '照片' },
  noPhotos: '无照片',
  photoAlt: (block, n) => `${block}现场会照片 ${n}`,
  form: {
    heading: '标记本季度现场会区块',
    year: '年度',
    quarter: '季度',
    quarterOption: (q) => `第 ${q} 季度`,
    block: '区块',
    blockPick: '请选择区块',
    heldOn: '现场会日期',
    notes: '典型做法与说明',
    photos: '照片（JPEG 或 PNG，可多选）',
    submit: '保存',
    done: (label, block) => `已将“${block}”标记为${label}现场会区块。`,
    addPhotos: '补充照片',
    added: '照片已补充。',
  },
};
