"""Demo data tables: every product category spec, the brand table and organisation vocabulary.

The category specs live in one module per area (IT, office equipment, appliances, audio-visual,
furniture, supplies); this module joins them so the generators have a single import.
"""

from __future__ import annotations

from mall.demo import (
    vocabulary_appliances,
    vocabulary_av,
    vocabulary_furniture,
    vocabulary_it,
    vocabulary_office,
    vocabulary_supplies,
)
from mall.demo.spec import CategorySpec
from mall.demo.vocabulary_brands import BRANDS, Brand

__all__ = ["BRANDS", "CATEGORY_SPECS", "Brand", "REGIONS", "SUPPLIERS", "UNITS"]

CATEGORY_SPECS: list[CategorySpec] = (
    vocabulary_it.CATEGORIES
    + vocabulary_office.CATEGORIES
    + vocabulary_appliances.CATEGORIES
    + vocabulary_av.CATEGORIES
    + vocabulary_furniture.CATEGORIES
    + vocabulary_supplies.CATEGORIES
)

# GB/T 2260 administrative divisions used as the seat of demo organisations.
REGIONS: dict[str, str] = {
    "110105": "北京市朝阳区",
    "310115": "上海市浦东新区",
    "440305": "广东省深圳市南山区",
    "420106": "湖北省武汉市武昌区",
    "430100": "湖南省长沙市",
    "430102": "湖南省长沙市芙蓉区",
    "430103": "湖南省长沙市天心区",
    "430104": "湖南省长沙市岳麓区",
    "430105": "湖南省长沙市开福区",
    "430111": "湖南省长沙市雨花区",
    "430200": "湖南省株洲市",
    "430202": "湖南省株洲市荷塘区",
    "430211": "湖南省株洲市天元区",
    "430300": "湖南省湘潭市",
    "430302": "湖南省湘潭市雨湖区",
    "430304": "湖南省湘潭市岳塘区",
}

# Fictional suppliers: legal name, trade name, seat, size, legal representative, contact,
# e-mail domain (all under the reserved-style .example.cn).
SUPPLIERS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("京采优选电子商务有限公司", "京采优选", "110105", "large", "周立新", "何晓燕",
     "jingcai-youxuan"),
    ("沪联智采供应链管理有限公司", "沪联智采", "310115", "large", "陈嘉明", "孙婷婷",
     "hulian-zhicai"),
    ("南粤云购科技有限公司", "南粤云购", "440305", "large", "黄志强", "林诗雨", "nanyue-yungou"),
    ("湘麓办公设备有限公司", "湘麓办公", "430104", "medium", "刘建华", "彭丽娟", "xianglu-bangong"),
    ("芙蓉数码信息技术有限公司", "芙蓉数码", "430102", "medium", "李文军", "谭雅琴",
     "furong-shuma"),
    ("楚天家具制造有限公司", "楚天家具", "420106", "medium", "王德胜", "胡晓梅", "chutian-jiaju"),
    ("株洲恒信文化用品有限公司", "恒信文具", "430202", "small", "罗永红", "邓佳慧",
     "hengxin-wenju"),
    ("湘潭宏远电器销售有限公司", "宏远电器", "430302", "small", "唐国平", "曾美玲",
     "hongyuan-dianqi"),
    ("长沙绿源清洁用品有限公司", "绿源清洁", "430111", "small", "易志勇", "袁小芳",
     "lvyuan-qingjie"),
    ("湘潭晨曦文印耗材有限公司", "晨曦文印", "430304", "micro", "龙晓东", "龙晓东",
     "chenxi-wenyin"),
)

# Fictional purchasing units: region, kind ("11" government organ, "12" public institution), name.
UNITS: tuple[tuple[str, str, str], ...] = (
    ("430100", "12", "长沙市青禾实验中学"),
    ("430100", "12", "长沙市云栖小学"),
    ("430100", "12", "长沙市星岚职业中专学校"),
    ("430100", "12", "长沙市湘瑞中医医院"),
    ("430100", "11", "长沙市机关事务管理局"),
    ("430100", "12", "长沙市城市建设档案馆"),
    ("430102", "12", "芙蓉区澄江小学"),
    ("430102", "11", "芙蓉区教育局"),
    ("430102", "12", "芙蓉区望月湾社区卫生服务中心"),
    ("430102", "11", "芙蓉区城市管理和综合执法局"),
    ("430103", "12", "天心区枫溪中学"),
    ("430103", "12", "天心区南岭小学"),
    ("430103", "11", "天心区卫生健康局"),
    ("430103", "12", "天心区青藤图书馆"),
    ("430104", "11", "岳麓区教育局"),
    ("430104", "12", "岳麓区麓枫实验学校"),
    ("430104", "12", "岳麓区栖霞小学"),
    ("430104", "12", "岳麓区湘麓康复医院"),
    ("430104", "11", "岳麓区财政局"),
    ("430105", "12", "开福区白沙湾中学"),
    ("430105", "11", "开福区文化旅游体育局"),
    ("430105", "12", "开福区沙河湾妇幼保健所"),
    ("430105", "12", "开福区青竹小学"),
    ("430111", "12", "雨花区政务服务中心"),
    ("430111", "12", "雨花区东湖实验中学"),
    ("430111", "11", "雨花区民政局"),
    ("430111", "12", "雨花区云峰小学"),
    ("430200", "12", "株洲市湘江实验中学"),
    ("430200", "12", "株洲市神农康复医院"),
    ("430200", "11", "株洲市生态环境局"),
    ("430200", "12", "株洲市枫林职业技术学校"),
    ("430200", "11", "株洲市统计局"),
    ("430202", "12", "荷塘区荷花小学"),
    ("430202", "11", "荷塘区教育局"),
    ("430202", "12", "荷塘区金山社区卫生服务中心"),
    ("430211", "12", "天元区湘芸小学"),
    ("430211", "11", "天元区住房和城乡建设局"),
    ("430211", "12", "天元区凤岭中学"),
    ("430211", "12", "天元区书香图书馆"),
    ("430300", "12", "湘潭市青莲实验中学"),
    ("430300", "12", "湘潭市湘韵中医医院"),
    ("430300", "11", "湘潭市农业农村局"),
    ("430300", "12", "湘潭市城市档案馆"),
    ("430302", "12", "雨湖区云湖小学"),
    ("430302", "11", "雨湖区教育局"),
    ("430302", "12", "雨湖区疾病预防控制中心"),
    ("430304", "12", "岳塘区湘丰小学"),
    ("430304", "11", "岳塘区市场监督管理局"),
    ("430304", "12", "岳塘区杉山社区卫生服务中心"),
    ("430304", "12", "岳塘区文化馆"),
)
