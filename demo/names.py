"""Names for the synthetic parts of the demo county: villages, communities, people.

Village names follow the banner's real naming pattern (Mongolian gacha names, Han village names
in the farming south-east, communities in the town seats) but are made up: real village
boundaries and rosters are not public.
"""
from __future__ import annotations

import numpy as np

# (Chinese, English) parts; prefix + root + suffix gives names like 巴彦希里嘎查 Bayan Shili Gacha.
PREFIXES = [("巴彦", "Bayan"), ("查干", "Chagan"), ("乌兰", "Ulan"), ("哈日", "Har"), ("呼和", "Hohe"),
            ("阿拉腾", "Alatan"), ("赛音", "Sain"), ("伊克", "Yeke"), ("巴嘎", "Baga"), ("那仁", "Naren"),
            ("萨如拉", "Sarula"), ("宝日", "Boro"), ("希日", "Shire"), ("额尔德尼", "Erdeni"),
            ("图古日格", "Tugurig"), ("毛盖", "Mogai"), ("敖伦", "Olon"), ("乌素", "Usu")]
ROOTS = [("希里", "Shili"), ("淖尔", "Nur"), ("敖包", "Obo"), ("陶勒盖", "Tolgoi"), ("布拉格", "Bulag"),
         ("呼都格", "Hudug"), ("高勒", "Gol"), ("塔拉", "Tal"), ("温都尔", "Ondor"), ("套海", "Tohai")]
HAN_VILLAGES = [("大沙头村", "Dashatou Village"), ("马场井村", "Machangjing Village"),
                ("三段地村", "Sanduandi Village"), ("河南村", "Henan Village"),
                ("西海子村", "Xihaizi Village"), ("巴郎庙村", "Balangmiao Village"),
                ("四大股村", "Sidagu Village"), ("堆子梁村", "Duiziliang Village"),
                ("黄海子村", "Huanghaizi Village"), ("北大池村", "Beidachi Village")]
COMMUNITY_ROOTS = [("珠和", "Juhe"), ("苏力迪", "Sulide"), ("锡林", "Xilin"), ("阿吉奈", "Ajinai"),
                   ("宝日格斯台", "Borogestai"), ("新城", "Xincheng"), ("文化", "Wenhua"),
                   ("团结", "Tuanjie"), ("幸福", "Xingfu"), ("和谐", "Hexie"), ("红柳", "Hongliu"),
                   ("草原", "Caoyuan")]

SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁宋谢唐韩冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋"
                "蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱"
                "汤尹黎易常武乔贺赖龚文")
MONGOL_NAMES = ["巴特尔", "乌力吉", "额尔敦", "苏日娜", "萨仁", "其木格", "图雅", "阿拉坦", "斯琴",
                "巴雅尔", "朝鲁", "敖登", "那木汗", "乌云", "格日勒", "宝音", "达来", "满都拉"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建文辉玲红梅丹鑫宇浩然晨曦")


def village_names(rng: np.random.Generator, n_gacha: int, n_han: int) -> list[tuple[str, str]]:
    """``n_gacha`` distinct gacha names and ``n_han`` Han village names, shuffled by ``rng``."""
    combos = [(p + r + "嘎查", f"{pe} {re} Gacha") for p, pe in PREFIXES for r, re in ROOTS]
    picks = rng.choice(len(combos), size=n_gacha, replace=False)
    gacha = [combos[i] for i in picks]
    han = [HAN_VILLAGES[i] for i in rng.choice(len(HAN_VILLAGES), size=n_han, replace=False)]
    return gacha + han


def community_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """``n`` distinct town-seat community (社区) names."""
    picks = rng.choice(len(COMMUNITY_ROOTS), size=n, replace=False)
    return [(COMMUNITY_ROOTS[i][0] + "社区", COMMUNITY_ROOTS[i][1] + " Community") for i in picks]


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` plausible names, Han and Mongolian, as used in the banner."""
    out = []
    for _ in range(n):
        if rng.random() < 0.3:
            out.append(str(rng.choice(MONGOL_NAMES)))
        else:
            given = "".join(rng.choice(GIVEN, size=int(rng.integers(1, 3))))
            out.append(str(rng.choice(SURNAMES)) + given)
    return out
