"""Brand table for the demo products: display name as JD writes it, model prefix, price tier.

One row per brand: ``key|display name|model prefix|price tier``. The display name puts the
Latin brand in full-width brackets when the brand has one; the prefix replaces ``%`` in
model patterns; the tier (-0.15..0.15) nudges prices of premium or budget brands.
"""

from __future__ import annotations

from typing import NamedTuple


class Brand(NamedTuple):
    """A brand as shown in listing titles."""

    display: str
    prefix: str
    tier: float

    @property
    def short(self) -> str:
        """The brand's name without the bracketed Latin part, e.g. 联想 for 联想（Lenovo）."""
        return self.display.split("（", 1)[0]


_TABLE = """
3m|3M|3M|0.05
absen|艾比森（Absen）|AB|0
acer|宏碁（acer）|AC|-0.03
aigo|爱国者（aigo）|AG|-0.05
aipu|艾谱（AIPU）|AP|0
airmate|艾美特（Airmate）|AM|-0.03
aishu|爱数（AISHU）|AS|0
aker|爱课（AKER）|AK|-0.05
amp|安普（AMP）|AMP|0.03
angel|安吉尔（Angel）|AJ|0
ansell|安思尔（Ansell）|AN|0.05
aoc|AOC|AOC|-0.05
aosmith|A.O.史密斯（A.O.Smith）|AO|0.08
apc|APC|APC|0.05
apple|苹果（Apple）|AP|0.12
arrow|箭牌（ARROW）|AR|0
asiasymbol|亚太森博（Asia Symbol）|AS|0.02
asus|华硕（ASUS）|AS|0
asustor|华芸（ASUSTOR）|AT|0
aten|宏正（ATEN）|AT|0.05
aupu|奥普（AUPU）|AP|0.03
aurora|震旦（AURORA）|AR|0.06
aux|奥克斯（AUX）|AX|-0.06
avision|虹光（Avision）|AV|-0.03
baiwang|百旺|BW|-0.02
bambu|拓竹（Bambu Lab）|BL|0.05
baofeng|宝锋（BAOFENG）|BF|-0.12
bbk|步步高（BBK）|BBK|0
behringer|百灵达（BEHRINGER）|BH|-0.03
benq|明基（BenQ）|BQ|0
benro|百诺（Benro）|BN|0
blackstone|黑石（BLACKSTONE）|BS|0
blueair|布鲁雅尔（Blueair）|BA|0.1
bluemoon|蓝月亮（Bluemoon）|LY|0
bluesail|蓝帆（BLUESAIL）|LF|-0.03
boe|京东方（BOE）|BOE|0
bomu|博目（BOMU）|BM|0
bosch|博世（BOSCH）|BS|0.06
brother|兄弟（brother）|BR|0
bull|公牛（BULL）|GN|0.02
camel|骆驼（CAMEL）|CM|-0.05
canon|佳能（Canon）|CN|0.03
casio|卡西欧（CASIO）|CS|0.05
chahua|茶花（CHAHUA）|CH|-0.05
changhong|长虹（CHANGHONG）|CH|-0.05
chino|中诺（CHINO-E）|CN|-0.06
chint|正泰（CHINT）|CT|0
choseal|秋叶原（CHOSEAL）|QS|-0.05
cisco|思科（Cisco）|CS|0.1
cofoe|可孚（Cofoe）|KF|-0.05
colgate|高露洁（Colgate）|GL|0
colorlight|卡莱特（Colorlight）|CL|0
comet|科密（COMET）|KM|0
comix|齐心（Comix）|C|-0.02
creality|创想三维（Creality）|CR|-0.05
crest|佳洁士（Crest）|JJ|0
crucial|英睿达（Crucial）|CT|0
cvr|华视（CVR）|CVR|0
dahua|大华（dahua）|DH|-0.02
dameng|达梦（DM）|DM|0
darlie|好来（DARLIE）|HL|0
dascom|得实（DASCOM）|DS|0
dbapp|安恒信息（DBAPPSecurity）|DA|0
deerma|德尔玛（Deerma）|DEM|-0.08
deli|得力（deli）|DL|-0.03
delixi|德力西（DELIXI）|DLX|-0.02
dell|戴尔（DELL）|DE|0.03
deltaplus|代尔塔（DELTAPLUS）|DT|0.03
dettol|滴露（Dettol）|DL|0.03
deye|德业（Deye）|DY|-0.03
dhs|红双喜（DHS）|DHS|0
diebold|迪堡（Diebold）|DB|0.08
dinstar|鼎信通达（DINSTAR）|DS|0
diplomat|外交官（Diplomat）|DP|0
dongcheng|东成（DCA）|DC|-0.05
dooya|杜亚（DOOYA）|DY|0
doublea|Double A|DA|0.05
dsppa|迪士普（DSPPA）|DSP|0
duracell|金霸王（Duracell）|MN|0.05
dyson|戴森（Dyson）|DS|0.12
edifier|漫步者（EDIFIER）|ED|0
eloam|良田（eloam）|EL|0
epson|爱普生（EPSON）|EP|0.03
f5|F5|F5|0.12
fanvil|方位（Fanvil）|FV|-0.05
feitian|飞天诚信（FEITIAN）|FT|0
flashforge|闪铸（Flashforge）|FF|0
flyco|飞科（FLYCO）|FH|-0.08
fotile|方太（FOTILE）|FT|0.08
fsl|佛山照明（FSL）|FSL|-0.05
fuanna|富安娜（FUANNA）|FN|0.05
fuguang|富光（FUGUANG）|FG|0
fujifilm|富士胶片（FUJIFILM）|FJ|0.05
fujitsu|富士通（Fujitsu）|FI|0.05
galanz|格兰仕（Galanz）|GL|-0.05
gestetner|基士得耶（Gestetner）|GS|0
gg|格之格（G&G）|NT|-0.12
giec|杰科（GIEC）|GC|-0.05
golden|金典（GOLDEN）|GD|-0.03
gp|超霸（GP）|GP|0
gprinter|佳博（Gprinter）|GP|-0.08
grace|洁丽雅（Grace）|JLY|0
great_wall|长城（Great Wall）|GW|-0.03
greatwall_tools|长城精工（GREATWALL）|GW|-0.05
gree|格力（GREE）|GR|0.05
guangbo|广博（GuangBo）|GB|-0.03
guowei|国威（GUOWEI）|WS|-0.03
h3c|新华三（H3C）|H3C|0.02
haers|哈尔斯（HAERS）|HR|0
haier|海尔（Haier）|HE|0.02
hainuo|海氏海诺（HAINUO）|HN|-0.05
haitai|海泰方圆（HAITAI）|HT|0
hanvon|汉王（Hanvon）|HW|0
hbada|黑白调（HBADA）|HB|-0.05
hearttex|心相印（Hearttex）|XXY|0
hegii|恒洁（HEGII）|HG|0.03
hero|英雄（HERO）|HR|-0.05
hikvision|海康威视（HIKVISION）|DS|0
hillstone|山石网科（Hillstone）|SG|0
hisense|海信（Hisense）|HS|0
hitevision|鸿合（HiteVision）|HV|-0.02
hivi|惠威（HiVi）|HV|0.03
honeywell|霍尼韦尔（Honeywell）|HW|0.05
hongye|红叶（Hongye）|HY|-0.03
honor|荣耀（HONOR）|HN|0
hp|惠普（HP）|HP|0.02
hpe|慧与（HPE）|HPE|0.08
huaguang|华光（HUAGUANG）|HG|0
huaihai|淮海（HUAIHAI）|HH|0
huawei|华为（HUAWEI）|HW|0.05
hubang|互邦（HUBANG）|HB|0
hytera|海能达（Hytera）|HT|0.05
ibm|IBM|IBM|0.1
iflytek|科大讯飞（iFLYTEK）|SR|0.05
inspur|浪潮（INSPUR）|NF|0
intco|英科（INTCO）|YK|-0.03
intel|英特尔（Intel）|IN|0.05
jabra|捷波朗（Jabra）|JB|0.05
jbl|JBL|JBL|0.05
jienuo|杰诺（JIENUO）|JN|-0.05
jieshun|劳卫士（JIESHUN）|JS|-0.05
jieyu|捷宇（JIEYU）|TH|-0.05
jieyun|洁云（Hygienix）|JY|-0.03
jinglun|精伦（Jinglun）|IDR|0
jingyi|警翼（Jingyi）|DSJ|0
jinling|金羚（JINLING）|JL|-0.05
johnson|乔山（Johnson）|JH|0.1
jolimark|映美（Jolimark）|FP|0
jomoo|九牧（JOMOO）|JM|0.02
joyoung|九阳（Joyoung）|JY|0
kaifeng|凯丰（KAIFENG）|KF|-0.05
kangyi|康艺（KANGYI）|KY|0
keep|Keep|KP|0
kehua|科华（KEHUA）|KH|0
kingbase|人大金仓（KingbaseES）|KES|0
kingdee|金蝶（Kingdee）|KD|0
kingshore|金号（KINGSHORE）|JH|0
kingsmith|金史密斯（KINGSMITH）|KS|0
kingsoft|金山办公（WPS）|WPS|0
kingston|金士顿（Kingston）|KS|0
koal|格尔（Koal）|KL|0
kohler|科勒（KOHLER）|K|0.1
kokuyo|国誉（KOKUYO）|WCN-|0.05
konica|柯尼卡美能达（KONICA MINOLTA）|KM|0.03
kstar|科士达（KSTAR）|KS|-0.03
kuka|顾家家居（KUKA）|KK|0.05
kylin|麒麟软件（Kylin）|KY|0
kyocera|京瓷（KYOCERA）|KC|0.03
lenovo|联想（Lenovo）|LX|0.02
leoch|理士（LEOCH）|DJW|0
lexar|雷克沙（Lexar）|LX|0
leyard|利亚德（Leyard）|LY|0.03
lg|LG|LG|0
lianchuang|联创（LIANCHUANG）|LC|-0.05
liby|立白（Liby）|LB|-0.03
lining|李宁（LI-NING）|LN|0
lircon|利尔康（Lircon）|LRK|0
littleswan|小天鹅（LittleSwan）|TG|0
lizhi|励致（LIZHI）|LZ|-0.05
llano|绿巨能（llano）|LL|-0.05
locklock|乐扣乐扣（LOCK&LOCK）|LLG|0.03
logitech|罗技（Logitech）|LG|0.03
luolai|罗莱（LUOLAI）|LL|0.05
makita|牧田（Makita）|MK|0.06
manfrotto|曼富图（Manfrotto）|MT|0.08
marie|马利（Marie's）|G|-0.03
maryya|美丽雅（MARYYA）|MLY|-0.05
maxcook|美厨（maxcook）|MC|-0.05
maxhub|MAXHUB|MH|0.03
meiling|美菱（MeiLing）|ML|-0.05
meishi|美视（Meishi）|MS|-0.05
mercury|水星家纺（MERCURY）|SX|0
mg|晨光（M&G）|A|-0.03
miaojie|妙洁（MIAOJIE）|MJ|-0.03
microsoft|微软（Microsoft）|MS|0.05
midea|美的（Midea）|MD|0
mindray|迈瑞（Mindray）|MR|0.05
minhua|敏华（MINHUA）|MH|-0.05
mobigarden|牧高笛（MOBIGARDEN）|MG|0
molten|摩腾（molten）|MT|0.03
motorola|摩托罗拉（Motorola）|MT|0.06
mtviki|迈拓维矩（MT-VIKI）|MT|-0.05
nanfu|南孚（NANFU）|NF|0.02
nanxiao|南消（NANXIAO）|NX|0
narada|南都（Narada）|ND|0
nec|NEC|NEC|0.03
netac|朗科（Netac）|NT|-0.05
newland|新大陆（Newland）|NL|0
newsmy|纽曼（Newsmy）|NM|-0.05
nikon|尼康（Nikon）|NK|0.05
nitecore|奈特科尔（NITECORE）|NC|0.05
novastar|诺瓦科技（NovaStar）|NS|0
nsfocus|绿盟科技（NSFOCUS）|NS|0
nvc|雷士（NVC）|NVC|0
oiwas|爱华仕（OIWAS）|OC|-0.05
omron|欧姆龙（OMRON）|OM|0.05
opple|欧普（OPPLE）|OP|0
optoma|奥图码（Optoma）|OP|0
orico|奥睿科（ORICO）|OR|-0.05
panasonic|松下（Panasonic）|PA|0.05
panda|熊猫（PANDA）|PD|-0.05
pantum|奔图（PANTUM）|PT|-0.05
pearlriver|珠江（Pearl River）|PR|0.03
pentel|派通（Pentel）|BLN|0.03
philips|飞利浦（PHILIPS）|PH|0.03
pilot|百乐（PILOT）|BL|0.05
poly|宝利通（Poly）|PL|0.08
post_it|3M 报事贴（Post-it）|PI|0.05
printrite|天威（PrintRite）|TF|-0.1
qiangsheng|强生（QIANGSHENG）|QS|-0.05
qianxin|奇安信（QAX）|QAX|0.02
qingfeng|清风（APP）|QF|0
qinyuan|沁园（QINYUAN）|QY|0
qnap|威联通（QNAP）|TS|0
quantum|昆腾（Quantum）|QT|0.05
quanu|全友（QuanU）|QY|0
rapoo|雷柏（Rapoo）|RP|-0.05
ricoh|理光（RICOH）|RC|0.03
rising|瑞星（Rising）|RS|0
riso|理想（RISO）|RS|0.05
roland|罗兰（Roland）|RL|0.05
ronshen|容声（Ronshen）|RS|-0.03
ruijie|锐捷（Ruijie）|RG|0
runsun|劳士（RUNSUN）|RS|0
safeguard|舒肤佳（Safeguard）|SFJ|0
samsonite|新秀丽（Samsonite）|SS|0.1
samsung|三星（SAMSUNG）|SM|0.03
samzhe|山泽（SAMZHE）|SZ|-0.05
sandisk|闪迪（SanDisk）|SD|0
sangfor|深信服（Sangfor）|SF|0.02
sanli|三利（SANLI）|SL|-0.05
sansec|三未信安（SANSEC）|SJJ|0
santak|山特（SANTAK）|ST|0.03
sast|先科（SAST）|SA|-0.08
schneider|施耐德（Schneider）|SN|0.06
scutech|鼎甲（Scutech）|DB|0
seagate|希捷（Seagate）|SG|0
seewo|希沃（seewo）|SW|0.02
sennheiser|森海塞尔（Sennheiser）|SH|0.1
senssun|香山（SENSSUN）|XS|-0.05
sharp|夏普（SHARP）|SP|0
sheffield|钢盾（SHEFFIELD）|S|-0.03
shidu|十度（SHIDU）|SD|-0.05
shoto|双登（Shoto）|SD|0
shua|舒华（SHUA）|SH|0
shure|舒尔（Shure）|SH|0.1
siemens|西门子（SIEMENS）|SM|0.06
sihoo|西昊（SIHOO）|SH|-0.03
singfun|先锋（SINGFUN）|SF|-0.05
sirui|思锐（SIRUI）|SR|0
skyworth|创维（Skyworth）|SW|-0.03
songfa|松发（SONGFA）|SF|0
sony|索尼（SONY）|SN|0.06
soundcraft|声艺（Soundcraft）|SC|0.05
spalding|斯伯丁（Spalding）|SP|0.03
stanley|史丹利（STANLEY）|ST|0.03
sugon|中科曙光（Sugon）|SG|0
sunon|圣奥（SUNON）|SA|0.04
sunwood|三木（SUNWOOD）|SW|-0.05
supfire|神火（SupFire）|SF|0
supor|苏泊尔（SUPOR）|SP|0
swissgear|瑞动（SWISSGEAR）|SA|0
synjones|神思（SYNJONES）|SS|0
synology|群晖（Synology）|DS|0.05
taiden|台电（TAIDEN）|HCS|0.05
takstar|得胜（TAKSTAR）|TS|-0.03
tango|天章（TANGO）|TZ|-0.02
tass|江南天安（TASS）|TA|0
tcl|TCL|TCL|-0.03
tecsun|德生（Tecsun）|TS|0
tianguang|天广（TIANGUANG）|TG|0
tiger|虎牌（TIGER）|TG|0.08
tongfang|清华同方（THTF）|TF|-0.02
tongtech|东方通（TongTech）|TW|0
topsec|天融信（Topsec）|TS|0
toread|探路者（TOREAD）|TR|0
toshiba|东芝（TOSHIBA）|TB|0
toten|图腾（TOTEN）|G|0
tplink|普联（TP-LINK）|TL|-0.06
tsc|TSC|TTP|0
ue|永艺（UE）|UE|0
ugreen|绿联（UGREEN）|CM|-0.04
uni|三菱（uni）|UM|0.05
unilumin|洲明（Unilumin）|UL|0
uniontech|统信（UOS）|UOS|0
unis|紫光（UNIS）|UN|-0.05
uniview|宇视（uniview）|UV|-0.02
urovo|优博讯（UROVO）|UR|0
vanward|万和（Vanward）|WH|-0.03
venus|启明星辰（Venustech）|VS|0
vertiv|维谛（Vertiv）|VT|0.05
viewsonic|优派（ViewSonic）|VA|0
vinda|维达（Vinda）|VD|0
wacom|和冠（Wacom）|WC|0.08
walch|威露士（Walch）|WLS|0
wanjie|万杰（WANJIE）|WJ|-0.05
warsun|沃尔森（Warsun）|WS|-0.03
watchdata|握奇（WATCHDATA）|WD|0
wd|西部数据（WD）|WD|0
weirong|维融（weirong）|WR|0
westone|卫士通（Westone）|WST|0
whitecat|白猫（WHITECAT）|BM|-0.05
winner|稳健（winner）|WJ|0
winsor|温莎牛顿（Winsor&Newton）|WN|0.08
xianxingzhe|先行者（XIANXINGZHE）|XX|0
xiaomi|小米（MI）|MI|-0.03
xppen|XPPen|XP|-0.03
xylink|小鱼易连（xylink）|XY|0
yamaha|雅马哈（YAMAHA）|YM|0.06
yealink|亿联（Yealink）|YL|0
yeastar|星纵（Yeastar）|YS|0
yesoul|野小兽（YESOUL）|YS|0
yingheng|英衡（YINGHENG）|YH|-0.05
yonyou|用友（yonyou）|YY|0
yubai|玉柏（YUBAI）|YB|0
yunnanbaiyao|云南白药|YNBY|0.05
yusheng|御圣（YUSHENG）|YS|0
yuwell|鱼跃（yuwell）|YW|0
zcwy|中超伟业（ZCWY）|CW|0
zebra|斑马技术（ZEBRA）|ZB|0.05
zebra_pen|斑马（ZEBRA）|ZB|0.02
zhengtong|证通（Zhengtong）|ZT|0
zhitai|致态（ZhiTai）|ZT|0
zhongwei|中伟（ZHONGWEI）|ZW|0
zkteco|中控智慧（ZKTeco）|ZK|0
zte|中兴（ZTE）|ZTE|0
zwilling|双立人（ZWILLING）|ZW|0.1
"""


def _parse(table: str) -> dict[str, Brand]:
    """Read the pipe-separated table once at import time."""
    brands = {}
    for row in table.strip().splitlines():
        key, display, prefix, tier = row.split("|")
        brands[key] = Brand(display, prefix, float(tier))
    return brands


BRANDS: dict[str, Brand] = _parse(_TABLE)
