"""The fictional demo data set: associations, companies, company groups, demo accounts.

Everything here is invented. Names are built from place names and product words
so they read like Japanese manufacturers; none is meant to be a real company or
association, and every e-mail domain sits under ``.example.``.

The data is static; the few random choices (corporate numbers, association
membership, supplier links) are made in seed.py with a fixed seed, so every
install gets exactly the same data set. The demo passwords and TOTP secrets are
fixed too: `accounts_markdown()` renders the README table without a database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from clearance.permissions import Role

#: seed of the random choices in seed.py (the day the clearance law was promulgated)
RANDOM_SEED = 20240517


@dataclass(frozen=True)
class CompanySpec:
    key: str
    name_ja: str
    name_en: str
    prefecture: str  # JIS X 0401 code; the region follows from taxonomy.PREFECTURES
    size_class: str  # large | mid | small
    sectors: tuple[str, ...]  # 1–2 codes from taxonomy.SECTORS
    tech_field: str | None  # taxonomy.TECH_FIELDS or None
    materials: tuple[str, ...]  # 0–2 codes from taxonomy.CRITICAL_MATERIALS
    key_products: str


# key | 名称 | English name | pref | size | sectors | tech field | critical materials | 主要製品
_COMPANIES = """
sic_powder|みちのく炭化ケイ素工業株式会社|Michinoku Silicon Carbide Industries Co., Ltd.|05|small|semiconductors,chemicals|cleantech|critical_minerals|高純度SiC粉末、単結晶育成用原料
izumo_carbon|出雲カーボンマテリアル株式会社|Izumo Carbon Materials Co., Ltd.|32|mid|chemicals|cleantech||等方性黒鉛、結晶育成炉用黒鉛部材
tohoku_ceramics|東北精密セラミックス株式会社|Tohoku Precision Ceramics Co., Ltd.|04|mid|semiconductors,electronic_components|cleantech|semiconductors|SiCパワー半導体用ウェハ、研磨材
nasu_epi|那須エピタキシー株式会社|Nasu Epitaxy Co., Ltd.|09|small|semiconductors|cleantech|semiconductors|SiCエピタキシャルウェハ、受託成膜
chikushi_power|筑紫パワーデバイス株式会社|Chikushi Power Devices Co., Ltd.|40|large|semiconductors|cleantech|semiconductors|SiC MOSFET、パワーモジュール
ariake_substrate|有明セラミック基板株式会社|Ariake Ceramic Substrates Co., Ltd.|43|small|electronic_components|cleantech|advanced_electronic_components|窒化ケイ素絶縁基板、銅接合基板
chukyo_drive|中京ドライブシステムズ株式会社|Chukyo Drive Systems Co., Ltd.|23|large|automotive,electronic_components|cleantech||電動車用インバータ、駆動ユニット
setouchi_traction|瀬戸内トラクションシステム株式会社|Setouchi Traction Systems Co., Ltd.|34|mid|electronic_components|cleantech||鉄道車両用主変換装置、補助電源装置
tomakomai_lithium|苫小牧リチウム精製株式会社|Tomakomai Lithium Refining Co., Ltd.|01|large|chemicals|cleantech|critical_minerals|水酸化リチウム、炭酸リチウムの精製
hidaka_graphite|日高グラファイト株式会社|Hidaka Graphite Co., Ltd.|01|small|chemicals|cleantech|critical_minerals|球状化天然黒鉛、負極材原料
shunan_cathode|周南正極材料株式会社|Shunan Cathode Materials Co., Ltd.|35|large|chemicals|cleantech|storage_batteries|三元系正極材、LFP正極材
kashima_electrolyte|鹿島電解液株式会社|Kashima Electrolyte Co., Ltd.|08|mid|chemicals|cleantech|storage_batteries|電解液、六フッ化リン酸リチウム
hyuga_separator|日向セパレータ工業株式会社|Hyuga Separator Industries Co., Ltd.|45|large|chemicals|cleantech|storage_batteries|ポリオレフィン微多孔膜セパレータ
mikawa_cell|三河エナジーセル株式会社|Mikawa Energy Cell Co., Ltd.|23|large|automotive,electronic_components|cleantech|storage_batteries|車載用角形リチウムイオン電池セル
tokai_mobility|東海モビリティ工業株式会社|Tokai Mobility Industries Co., Ltd.|22|large|automotive|cleantech||電気自動車、ハイブリッド車
hokuriku_pack|北陸バッテリーパック株式会社|Hokuriku Battery Pack Co., Ltd.|16|mid|automotive|cleantech|storage_batteries|電池パック組立、電池管理システム(BMS)
muroran_steel|室蘭特殊鋼株式会社|Muroran Special Steel Co., Ltd.|01|large|steel|defence_space||機械構造用特殊鋼、軸受鋼
iwate_ferro|岩手合金鉄株式会社|Iwate Ferroalloy Co., Ltd.|03|small|steel||critical_minerals|フェロモリブデン、フェロバナジウム
kawaguchi_casting|川口精密鋳造株式会社|Kawaguchi Precision Castings Co., Ltd.|11|small|formed_materials|||工作機械ベッド用ねずみ鋳鉄・ダクタイル鋳鉄鋳物
echigo_forging|越後精密鍛造株式会社|Echigo Precision Forging Co., Ltd.|15|small|formed_materials|||主軸用鍛造品、歯車素材
suwa_ballscrew|諏訪ボールねじ製作所株式会社|Suwa Ballscrew Works Co., Ltd.|20|mid|machine_tools||machine_tools_robots|精密ボールねじ、リニアガイド
kaga_spindle|加賀スピンドル工業株式会社|Kaga Spindle Industries Co., Ltd.|17|small|machine_tools||machine_tools_robots|ビルトインモータスピンドル、主軸ユニット
sagami_cnc|相模数値制御システム株式会社|Sagami Numerical Control Systems Co., Ltd.|14|large|machine_tools,electronic_components|computing|machine_tools_robots|CNC装置、サーボアンプ
mino_machinery|美濃マシナリー株式会社|Mino Machinery Co., Ltd.|21|large|machine_tools|defence_space|machine_tools_robots|5軸マシニングセンタ、複合加工機
wakasa_grinding|若狭研削盤株式会社|Wakasa Grinding Machines Co., Ltd.|18|mid|machine_tools||machine_tools_robots|超精密平面研削盤、治具研削盤
sanjo_gear|三条歯車素材株式会社|Sanjo Gear Blanks Co., Ltd.|15|small|formed_materials|||浸炭用歯車素材、精密鍛造品
ina_reducer|伊那精密減速機株式会社|Ina Precision Reducers Co., Ltd.|20|mid|robots,machine_tools||machine_tools_robots|波動歯車減速機、RV減速機
hamamatsu_servo|浜松サーボモータ株式会社|Hamamatsu Servo Motor Co., Ltd.|22|mid|robots,electronic_components||machine_tools_robots|ACサーボモータ、アブソリュートエンコーダ
kyoto_vision|京都ロボットビジョン株式会社|Kyoto Robot Vision Co., Ltd.|26|small|robots|computing||3次元ビジョンセンサ、力覚センサ
kitakyushu_robotics|北九州ロボティクス株式会社|Kitakyushu Robotics Co., Ltd.|40|large|robots|computing|machine_tools_robots|垂直多関節ロボット、協働ロボット
osaka_ri|大阪ロボットインテグレーション株式会社|Osaka Robot Integration Co., Ltd.|27|small|robots|computing||ロボットシステムの設計・立ち上げ、溶接ライン
omuta_titanium|大牟田スポンジチタン株式会社|Omuta Titanium Sponge Co., Ltd.|40|large|steel,formed_materials|defence_space|critical_minerals|スポンジチタン、チタンインゴット
iwami_alloys|石見ニッケル合金株式会社|Iwami Nickel Alloys Co., Ltd.|32|small|steel|defence_space|critical_minerals|ニッケル基超合金、真空溶解インゴット
harima_forging|播磨航空鍛造株式会社|Harima Aero Forgings Co., Ltd.|28|large|formed_materials,aerospace|defence_space|aircraft_parts|タービンディスク用型鍛造品、リング圧延品
tsuruga_cmc|敦賀セラミック複合材株式会社|Tsuruga Ceramic Composites Co., Ltd.|18|small|chemicals,aerospace|defence_space|aircraft_parts|SiC繊維、セラミックス基複合材(CMC)
kakamigahara_turbine|各務原タービン部品株式会社|Kakamigahara Turbine Parts Co., Ltd.|21|mid|aerospace|defence_space|aircraft_parts|タービンブレードの精密鋳造・加工
soma_coating|相馬耐熱コーティング株式会社|Soma Thermal Coatings Co., Ltd.|07|small|aerospace,chemicals|defence_space|aircraft_parts|遮熱コーティング、溶射加工
tama_aero|多摩航空精機株式会社|Tama Aero Precision Co., Ltd.|13|small|aerospace,machine_tools|defence_space|aircraft_parts|エンジンシャフト、ケーシングの精密加工
asuka_engines|飛鳥航空エンジン株式会社|Asuka Aero Engines Co., Ltd.|11|large|aerospace|defence_space|aircraft_parts|民間航空機エンジンモジュール、整備
akita_re_recycle|秋田レアアースリサイクル株式会社|Akita Rare Earth Recycling Co., Ltd.|05|small|chemicals|cleantech|critical_minerals|使用済み磁石からの希土類回収、酸化ジスプロシウム
moji_rare_earth|門司希土類化学株式会社|Moji Rare Earth Chemicals Co., Ltd.|40|large|chemicals|cleantech|critical_minerals|希土類の分離精製、ネオジム金属
noto_alloys|能登磁性合金株式会社|Noto Magnetic Alloys Co., Ltd.|17|small|formed_materials|cleantech|permanent_magnets,critical_minerals|ネオジム鉄ボロン合金薄帯、合金粉末
tamba_magnetics|丹波マグネティクス株式会社|Tamba Magnetics Co., Ltd.|28|large|formed_materials,electronic_components|cleantech|permanent_magnets|ネオジム焼結磁石、粒界拡散処理磁石
iyo_bonded|伊予ボンド磁石株式会社|Iyo Bonded Magnets Co., Ltd.|38|small|formed_materials|cleantech|permanent_magnets|ボンド磁石、射出成形磁石
enshu_motor|遠州モータ工業株式会社|Enshu Motor Industries Co., Ltd.|22|large|electronic_components,automotive|cleantech|permanent_magnets|駆動用モータ、産業用高効率モータ
ishikari_wind|石狩風力機器株式会社|Ishikari Wind Power Equipment Co., Ltd.|01|mid|electronic_components|cleantech||永久磁石式風力発電機、ナセル部品
tokushima_ferment|徳島発酵原料株式会社|Tokushima Fermentation Materials Co., Ltd.|36|small|pharmaceuticals,chemicals|biotech|antibacterial_drugs|発酵用培地原料、ブドウ糖液
mizushima_chem|水島基礎化学株式会社|Mizushima Basic Chemicals Co., Ltd.|33|large|chemicals|||溶媒、基礎化学品
naruto_fine|鳴門ファインケミカル株式会社|Naruto Fine Chemicals Co., Ltd.|36|small|pharmaceuticals|biotech|antibacterial_drugs|6-APA、7-ACA等の抗菌薬中間体
sanuki_api|讃岐原薬株式会社|Sanuki Active Pharmaceutical Ingredients Co., Ltd.|37|mid|pharmaceuticals|biotech|antibacterial_drugs|セファゾリン原薬、アンピシリン原薬
tosa_vials|土佐メディカルバイアル株式会社|Tosa Medical Vials Co., Ltd.|39|small|medical_devices|||注射剤用ガラスバイアル、ゴム栓
naniwa_pharma|浪速ファーマ株式会社|Naniwa Pharma Co., Ltd.|27|large|pharmaceuticals|biotech|antibacterial_drugs|注射用抗菌薬製剤、後発医薬品
ryukyu_generic|琉球ジェネリック製薬株式会社|Ryukyu Generic Pharmaceuticals Co., Ltd.|47|small|pharmaceuticals|biotech|antibacterial_drugs|経口抗菌薬製剤、小児用ドライシロップ
abukuma_quartz|阿武隈石英株式会社|Abukuma Quartz Co., Ltd.|07|small|chemicals,semiconductors|computing||高純度合成石英ガラス、石英インゴット
seto_alumina|瀬戸ファインセラミック原料株式会社|Seto Fine Ceramic Materials Co., Ltd.|23|small|chemicals|computing||高純度アルミナ粉末、イットリア粉末
yonezawa_ceramics|米沢ファインセラミックス株式会社|Yonezawa Fine Ceramics Co., Ltd.|06|large|electronic_components,semiconductors|computing|semiconductors|静電チャック、耐プラズマセラミックス部品
kofu_quartz|甲府石英加工株式会社|Kofu Quartz Works Co., Ltd.|19|small|semiconductors|computing|semiconductors|石英ベルジャー、フォーカスリング
matsumoto_vacuum|松本真空機器株式会社|Matsumoto Vacuum Equipment Co., Ltd.|20|large|machine_tools,semiconductors|computing|semiconductors|ドライ真空ポンプ、真空バルブ
hachioji_rf|八王子高周波電源株式会社|Hachioji RF Power Co., Ltd.|13|small|electronic_components|computing|semiconductors|プラズマ用高周波電源、整合器
uji_massflow|宇治マスフロー株式会社|Uji Mass Flow Co., Ltd.|26|small|electronic_components,semiconductors|computing|semiconductors|マスフローコントローラ、ガス供給ユニット
sendai_plasma|仙台プラズマテクノロジー株式会社|Sendai Plasma Technology Co., Ltd.|04|large|semiconductors|computing|semiconductors|ドライエッチング装置、ALD成膜装置
ichihara_fluoro|市原フッ素化学株式会社|Ichihara Fluorochemicals Co., Ltd.|12|large|chemicals|computing|critical_minerals|蛍石由来のフッ素化合物、高純度フッ化水素
yokkaichi_monomer|四日市モノマー株式会社|Yokkaichi Monomers Co., Ltd.|24|mid|chemicals|computing||アクリル系特殊モノマー、光酸発生剤原料
takaoka_resins|高岡機能性樹脂株式会社|Takaoka Functional Resins Co., Ltd.|16|small|chemicals|computing|semiconductors|フォトレジスト用ベースポリマー
niihama_solvents|新居浜高純度溶剤株式会社|Niihama High-Purity Solvents Co., Ltd.|38|small|chemicals|computing|semiconductors|電子グレード溶剤、現像液
kawasaki_photo|川崎フォトマテリアルズ株式会社|Kawasaki Photo Materials Co., Ltd.|14|large|chemicals,semiconductors|computing|semiconductors|EUV・ArF液浸フォトレジスト
kumamoto_foundry|熊本ロジックファウンドリ株式会社|Kumamoto Logic Foundry Co., Ltd.|43|large|semiconductors|computing|semiconductors|ロジック半導体の受託製造(28〜12nm)
kitakami_memory|北上メモリ株式会社|Kitakami Memory Co., Ltd.|03|large|semiconductors|computing|semiconductors|3次元NANDフラッシュメモリ
nomi_dielectric|能美誘電体原料株式会社|Nomi Dielectric Materials Co., Ltd.|17|small|chemicals,electronic_components||advanced_electronic_components|チタン酸バリウム粉末
imabari_nickel|今治ニッケルパウダー株式会社|Imabari Nickel Powder Co., Ltd.|38|small|chemicals||critical_minerals|内部電極用超微粒ニッケル粉
tottori_paste|鳥取電子ペースト株式会社|Tottori Electronic Pastes Co., Ltd.|31|small|chemicals,electronic_components||advanced_electronic_components|内部電極ペースト、外部電極ペースト
shiga_films|滋賀離型フィルム株式会社|Shiga Release Films Co., Ltd.|25|large|chemicals|||セラミックグリーンシート成形用離型フィルム
nagaoka_mlcc|長岡セラミックコンデンサ株式会社|Nagaoka Ceramic Capacitors Co., Ltd.|15|large|electronic_components||advanced_electronic_components|車載用積層セラミックコンデンサ(MLCC)
matsue_inductor|松江インダクタ工業株式会社|Matsue Inductor Industries Co., Ltd.|32|mid|electronic_components||advanced_electronic_components|積層チップインダクタ、フェライトビーズ
anjo_electronics|安城車載エレクトロニクス株式会社|Anjo Automotive Electronics Co., Ltd.|23|large|automotive,electronic_components|computing||車載ECU、先進運転支援システム用制御ユニット
chichibu_glass|秩父光学ガラス株式会社|Chichibu Optical Glass Co., Ltd.|11|small|chemicals|||光学ガラス素材、希土類添加ガラス
okayama_resins|岡山医療用樹脂株式会社|Okayama Medical Resins Co., Ltd.|33|small|chemicals,medical_devices|biotech||医療用フッ素樹脂チューブ素材、医療用ポリウレタン
aizu_lens|会津マイクロレンズ株式会社|Aizu Micro Lens Co., Ltd.|07|small|electronic_components,medical_devices|||極小径対物レンズ、光学プリズム
shirakawa_sensors|白河イメージセンサ株式会社|Shirakawa Image Sensors Co., Ltd.|07|mid|semiconductors,medical_devices|computing|semiconductors|医療用超小型CMOSイメージセンサ
chino_medical|茅野精密医療部品株式会社|Chino Precision Medical Parts Co., Ltd.|20|small|medical_devices,machine_tools|||内視鏡湾曲部、極細ワイヤ加工品
musashino_medical|武蔵野メディカルシステムズ株式会社|Musashino Medical Systems Co., Ltd.|13|large|medical_devices|biotech||軟性内視鏡システム、内視鏡処置具
oita_iron|大分還元鉄株式会社|Oita Reduced Iron Co., Ltd.|44|mid|steel|cleantech||水素直接還元鉄、冷鉄源
kure_steel|呉特殊鋼圧延株式会社|Kure Special Steel Rolling Co., Ltd.|34|large|steel|||肌焼鋼棒鋼、ばね鋼線材
toyohashi_forging|豊橋鍛造工業株式会社|Toyohashi Forging Industries Co., Ltd.|23|mid|formed_materials,automotive|||クランクシャフト、等速ジョイント用鍛造品
higashihiroshima_gear|東広島ギアテック株式会社|Higashihiroshima Geartech Co., Ltd.|34|small|automotive,formed_materials|||トランスミッション用歯車、eアクスル用ギア
aki_motors|安芸モーターズ株式会社|Aki Motors Co., Ltd.|34|large|automotive|cleantech||乗用車、電動駆動ユニット(eアクスル)
tamano_heavy|玉野大型鋳鍛株式会社|Tamano Heavy Castings and Forgings Co., Ltd.|33|mid|formed_materials,steel||ship_parts|大型クランクシャフト用鍛鋼品、舶用鋳鋼品
onomichi_propeller|尾道プロペラ製作所株式会社|Onomichi Propeller Works Co., Ltd.|34|small|formed_materials||ship_parts|大型船舶用プロペラ(アルミニウム青銅鋳物)
nagasaki_turbo|長崎過給機株式会社|Nagasaki Turbochargers Co., Ltd.|42|large|machine_tools||ship_parts|舶用過給機、燃料噴射装置
setouchi_marine|瀬戸内舶用機関株式会社|Setouchi Marine Engines Co., Ltd.|38|large|machine_tools|defence_space|ship_parts|2ストローク舶用ディーゼルエンジン、LNG二元燃料エンジン
ueda_crystal|上田単結晶株式会社|Ueda Single Crystals Co., Ltd.|20|small|electronic_components,chemicals|computing|critical_minerals|タンタル酸リチウム単結晶、ニオブ酸リチウム単結晶
iida_piezo|飯田圧電ウェハ株式会社|Iida Piezo Wafers Co., Ltd.|20|small|electronic_components|computing|advanced_electronic_components|圧電単結晶ウェハ、接合ウェハ
fukuchiyama_saw|福知山SAWデバイス株式会社|Fukuchiyama SAW Devices Co., Ltd.|26|large|electronic_components|computing|advanced_electronic_components|SAW・BAWフィルタ、デュプレクサ
tsuruoka_package|鶴岡セラミックパッケージ株式会社|Tsuruoka Ceramic Packages Co., Ltd.|06|small|electronic_components|computing|advanced_electronic_components|セラミックパッケージ、LTCC基板
yokohama_modules|横浜通信モジュール株式会社|Yokohama Communication Modules Co., Ltd.|14|large|electronic_components|computing|advanced_electronic_components|5G通信モジュール、基地局用RFフロントエンド
asahikawa_compound|旭川化合物半導体材料株式会社|Asahikawa Compound Semiconductor Materials Co., Ltd.|01|small|semiconductors,chemicals|defence_space|critical_minerals|高純度ガリウム、ゲルマニウム基板
tsukuba_space_solar|筑波宇宙太陽電池株式会社|Tsukuba Space Solar Cells Co., Ltd.|08|small|semiconductors,aerospace|defence_space||宇宙用三接合太陽電池セル
matsuyama_carbon|松山炭素繊維株式会社|Matsuyama Carbon Fiber Co., Ltd.|38|large|chemicals,aerospace|defence_space|aircraft_parts|PAN系炭素繊維、プリプレグ
mitaka_tracker|三鷹スタートラッカー株式会社|Mitaka Star Tracker Co., Ltd.|13|small|aerospace,electronic_components|defence_space||スタートラッカー、リアクションホイール
osumi_thruster|大隅スラスタ工業株式会社|Osumi Thruster Industries Co., Ltd.|46|small|aerospace|defence_space||衛星用電気推進スラスタ、推薬弁
ryukyu_space|琉球スペースエレクトロニクス株式会社|Ryukyu Space Electronics Co., Ltd.|47|small|electronic_components,aerospace|defence_space||耐放射線電子部品の試験・スクリーニング
owari_space|尾張宇宙システム株式会社|Owari Space Systems Co., Ltd.|23|mid|aerospace|defence_space||100kg級小型観測衛星、衛星バス
iwakuni_plastics|岩国スーパーエンプラ株式会社|Iwakuni Super Engineering Plastics Co., Ltd.|35|mid|chemicals|biotech||ポリスルホン樹脂、医療グレード樹脂
otsu_membranes|大津中空糸膜株式会社|Otsu Hollow Fiber Membranes Co., Ltd.|25|small|chemicals,medical_devices|biotech||中空糸膜、血液浄化用膜
awa_dialysis|阿波透析液株式会社|Awa Dialysis Solutions Co., Ltd.|36|small|pharmaceuticals|biotech||透析液原料、重炭酸透析剤
miyazaki_filters|宮崎メディカルフィルタ株式会社|Miyazaki Medical Filters Co., Ltd.|45|large|medical_devices|biotech||ダイアライザ、血液回路
okaya_pump|岡谷医療ポンプ部品株式会社|Okaya Medical Pump Parts Co., Ltd.|20|small|medical_devices,machine_tools|||血液ポンプ用ローラ、精密樹脂成形品
yotei_medical|羊蹄メディカル株式会社|Yotei Medical Co., Ltd.|01|large|medical_devices|biotech||多人数用透析装置、個人用透析装置
wakayama_epoxy|和歌山エポキシ樹脂株式会社|Wakayama Epoxy Resins Co., Ltd.|30|large|chemicals|computing||半導体封止用エポキシ樹脂、硬化剤
koriyama_glasscloth|郡山ガラスクロス株式会社|Koriyama Glass Cloth Co., Ltd.|07|small|chemicals,electronic_components|computing||低誘電ガラスクロス、極薄ガラス繊維
nara_buildup|奈良ビルドアップフィルム株式会社|Nara Build-up Films Co., Ltd.|29|large|chemicals,electronic_components|computing|semiconductors|層間絶縁フィルム(ビルドアップ材)
saga_substrates|佐賀パッケージ基板株式会社|Saga Package Substrates Co., Ltd.|41|large|electronic_components,semiconductors|computing|semiconductors|FC-BGA基板、ガラスコア基板(開発中)
yonago_bump|米子バンプ実装株式会社|Yonago Bump Assembly Co., Ltd.|31|small|semiconductors|computing|semiconductors|はんだバンプ形成、ウェハレベルパッケージの受託
oita_packaging|大分アドバンストパッケージング株式会社|Oita Advanced Packaging Co., Ltd.|44|large|semiconductors|computing|semiconductors|2.5D/3Dパッケージング、チップレット集積
atsugi_computing|厚木コンピューティング株式会社|Atsugi Computing Co., Ltd.|14|large|electronic_components|computing|cloud_programs|AIサーバ、クラウド基盤ソフトウェア
fukui_cf_fabric|福井炭素繊維織物株式会社|Fukui Carbon Fiber Textiles Co., Ltd.|18|small|chemicals|defence_space||炭素繊維織物、多軸織物
hakusan_composites|白山コンポジット株式会社|Hakusan Composites Co., Ltd.|17|small|aerospace,formed_materials|defence_space|aircraft_parts|CFRP航空機構造部材、オートクレーブ成形
kanuma_fiber|鹿沼光ファイバ株式会社|Kanuma Optical Fiber Co., Ltd.|09|large|electronic_components|computing||海底ケーブル用光ファイバ、マルチコアファイバ
himeji_connectors|姫路光コネクタ株式会社|Himeji Optical Connectors Co., Ltd.|28|small|electronic_components|computing||多心光コネクタ、光配線部品
senshu_solar|泉州ソーラーフィルム株式会社|Senshu Solar Film Co., Ltd.|27|small|chemicals,electronic_components|cleantech||フィルム型ペロブスカイト太陽電池
chiba_iodine|千葉ヨウ素化学株式会社|Chiba Iodine Chemicals Co., Ltd.|12|mid|chemicals|cleantech|critical_minerals|ヨウ素、ヨウ化鉛などペロブスカイト原料
ryukyu_green|琉球グリーンエネルギー株式会社|Ryukyu Green Energy Co., Ltd.|47|small|electronic_components|cleantech||離島向け太陽光・蓄電システムの実証と施工
hofu_electrolyte|防府固体電解質株式会社|Hofu Solid Electrolytes Co., Ltd.|35|small|chemicals|cleantech|storage_batteries|硫化物系固体電解質
tsukuba_cryo|つくば希釈冷凍機株式会社|Tsukuba Dilution Refrigerators Co., Ltd.|08|small|machine_tools|computing||希釈冷凍機、極低温同軸配線
kyoto_superconducting|京都超伝導デバイス株式会社|Kyoto Superconducting Devices Co., Ltd.|26|small|semiconductors|computing||超伝導量子ビットチップの試作、ジョセフソン接合
obihiro_biofoundry|帯広バイオファウンドリ株式会社|Obihiro Biofoundry Co., Ltd.|01|small|pharmaceuticals,chemicals|biotech||微生物による化学品生産、ゲノム編集株の受託構築
okinawa_algae|沖縄微細藻類株式会社|Okinawa Microalgae Co., Ltd.|47|small|chemicals|biotech||微細藻類由来の機能性素材、培養技術
odate_urban_mining|大館都市鉱山株式会社|Odate Urban Mining Co., Ltd.|05|small|chemicals|cleantech|critical_minerals|電子基板からの貴金属・レアメタル回収
joetsu_analog|上越アナログ半導体株式会社|Joetsu Analog Semiconductors Co., Ltd.|15|mid|semiconductors|computing|semiconductors|8インチ車載用アナログIC、マイコン
"""


def _parse(text: str) -> tuple[CompanySpec, ...]:
    specs = []
    for line in text.strip().splitlines():
        key, ja, en, pref, size, sectors, tech, materials, products = line.split("|")
        specs.append(
            CompanySpec(
                key=key,
                name_ja=ja,
                name_en=en,
                prefecture=pref,
                size_class=size,
                sectors=tuple(s for s in sectors.split(",") if s),
                tech_field=tech or None,
                materials=tuple(m for m in materials.split(",") if m),
                key_products=products,
            )
        )
    return tuple(specs)


COMPANIES: tuple[CompanySpec, ...] = _parse(_COMPANIES)


@dataclass(frozen=True)
class AssociationSpec:
    name_ja: str
    name_en: str
    sector: str
    #: who may join: ("sector", code), ("material", code) or ("sme", "") for mid-sized and small firms
    draws_from: tuple[str, str]
    size: int  # how many members to draw (fewer if fewer qualify)


ASSOCIATIONS: tuple[AssociationSpec, ...] = (
    AssociationSpec("日本先端半導体材料協会", "Japan Advanced Semiconductor Materials Association",
                    "semiconductors", ("sector", "semiconductors"), 12),
    AssociationSpec("半導体製造装置部材工業会", "Semiconductor Equipment Components Industry Association",
                    "semiconductors", ("material", "semiconductors"), 10),
    AssociationSpec("日本高機能電子部品協議会", "Japan High-Performance Electronic Components Council",
                    "electronic_components", ("sector", "electronic_components"), 12),
    AssociationSpec("精密工作機械技術振興会", "Precision Machine Tool Technology Promotion Society",
                    "machine_tools", ("sector", "machine_tools"), 9),
    AssociationSpec("次世代ロボット産業協議会", "Next-Generation Robot Industry Council",
                    "robots", ("sector", "robots"), 6),
    AssociationSpec("航空宇宙部品サプライヤー協会", "Aerospace Parts Suppliers Association",
                    "aerospace", ("sector", "aerospace"), 11),
    AssociationSpec("電動車部品サプライチェーン協議会", "Electrified Vehicle Parts Supply Chain Council",
                    "automotive", ("sector", "automotive"), 9),
    AssociationSpec("車載電池材料工業会", "Automotive Battery Materials Industry Association",
                    "automotive", ("material", "storage_batteries"), 7),
    AssociationSpec("機能性化学品産業協会", "Functional Chemicals Industry Association",
                    "chemicals", ("sector", "chemicals"), 14),
    AssociationSpec("特殊鋼・合金技術協会", "Special Steel and Alloy Technology Association",
                    "steel", ("sector", "steel"), 7),
    AssociationSpec("医療機器サプライヤー連合会", "Federation of Medical Device Suppliers",
                    "medical_devices", ("sector", "medical_devices"), 9),
    AssociationSpec("鋳鍛造・素形材技術協会", "Casting, Forging and Formed Materials Technology Association",
                    "formed_materials", ("sector", "formed_materials"), 10),
    AssociationSpec("抗菌薬・原薬安定供給協議会", "Council for a Stable Supply of Antibacterials and APIs",
                    "pharmaceuticals", ("sector", "pharmaceuticals"), 7),
    AssociationSpec("希土類・重要鉱物リサイクル協会", "Rare Earth and Critical Minerals Recycling Association",
                    "chemicals", ("material", "critical_minerals"), 9),
    AssociationSpec("地域ものづくり中小企業経済安全保障ネットワーク",
                    "Regional Manufacturing SMEs' Economic Security Network",
                    "formed_materials", ("sme", ""), 14),
)


@dataclass(frozen=True)
class GroupSpec:
    kind: str  # supply_chain | technology
    name_ja: str
    name_en: str
    sector: str
    subject_ja: str
    subject_en: str
    #: supply chain: four lists of company keys, tier 1 (一次材料) to 4 (完成品); technology: one list
    tiers: tuple[tuple[str, ...], ...]


def _chain(name_ja, name_en, sector, subject_ja, subject_en, *tiers) -> GroupSpec:
    return GroupSpec("supply_chain", name_ja, name_en, sector, subject_ja, subject_en, tuple(tiers))


def _tech(name_ja, name_en, sector, subject_ja, subject_en, members) -> GroupSpec:
    return GroupSpec("technology", name_ja, name_en, sector, subject_ja, subject_en, (members,))


GROUPS: tuple[GroupSpec, ...] = (
    _chain("パワー半導体サプライチェーン", "Power semiconductor supply chain", "semiconductors",
           "SiCパワーデバイス", "SiC power devices",
           ("sic_powder", "izumo_carbon"), ("tohoku_ceramics", "nasu_epi"),
           ("chikushi_power", "ariake_substrate"), ("chukyo_drive", "setouchi_traction")),
    _chain("車載用蓄電池サプライチェーン", "Automotive battery supply chain", "automotive",
           "車載用リチウムイオン電池", "Automotive lithium-ion batteries",
           ("tomakomai_lithium", "hidaka_graphite"), ("shunan_cathode", "kashima_electrolyte", "hyuga_separator"),
           ("mikawa_cell",), ("tokai_mobility", "hokuriku_pack")),
    _chain("工作機械サプライチェーン", "Machine tool supply chain", "machine_tools",
           "5軸マシニングセンタ", "Five-axis machining centres",
           ("muroran_steel", "iwate_ferro"), ("kawaguchi_casting", "echigo_forging"),
           ("suwa_ballscrew", "kaga_spindle", "sagami_cnc"), ("mino_machinery", "wakasa_grinding")),
    _chain("産業用ロボットサプライチェーン", "Industrial robot supply chain", "robots",
           "垂直多関節ロボット", "Articulated industrial robots",
           ("muroran_steel", "noto_alloys"), ("sanjo_gear", "tamba_magnetics"),
           ("ina_reducer", "hamamatsu_servo", "kyoto_vision"), ("kitakyushu_robotics", "osaka_ri")),
    _chain("航空機エンジン部品サプライチェーン", "Aero-engine parts supply chain", "aerospace",
           "民間航空機用ジェットエンジン部品", "Civil jet engine parts",
           ("omuta_titanium", "iwami_alloys"), ("harima_forging", "tsuruga_cmc"),
           ("kakamigahara_turbine", "soma_coating", "tama_aero"), ("asuka_engines",)),
    _chain("永久磁石サプライチェーン", "Permanent magnet supply chain", "formed_materials",
           "ネオジム焼結磁石", "Sintered neodymium magnets",
           ("akita_re_recycle", "moji_rare_earth"), ("noto_alloys",),
           ("tamba_magnetics", "iyo_bonded"), ("enshu_motor", "ishikari_wind")),
    _chain("抗菌薬サプライチェーン", "Antibacterial drug supply chain", "pharmaceuticals",
           "βラクタム系抗菌薬", "Beta-lactam antibacterials",
           ("tokushima_ferment", "mizushima_chem"), ("naruto_fine",),
           ("sanuki_api", "tosa_vials"), ("naniwa_pharma", "ryukyu_generic")),
    _chain("半導体製造装置サプライチェーン", "Semiconductor equipment supply chain", "semiconductors",
           "エッチング・成膜装置", "Etching and deposition equipment",
           ("abukuma_quartz", "seto_alumina"), ("yonezawa_ceramics", "kofu_quartz"),
           ("matsumoto_vacuum", "hachioji_rf", "uji_massflow"), ("sendai_plasma",)),
    _chain("フォトレジストサプライチェーン", "Photoresist supply chain", "chemicals",
           "先端フォトレジスト", "Advanced photoresists",
           ("ichihara_fluoro", "yokkaichi_monomer"), ("takaoka_resins", "niihama_solvents"),
           ("kawasaki_photo",), ("kumamoto_foundry", "kitakami_memory")),
    _chain("積層セラミックコンデンササプライチェーン", "Multilayer ceramic capacitor supply chain",
           "electronic_components", "車載用積層セラミックコンデンサ", "Automotive MLCCs",
           ("nomi_dielectric", "imabari_nickel"), ("tottori_paste", "shiga_films"),
           ("nagaoka_mlcc", "matsue_inductor"), ("anjo_electronics",)),
    _chain("内視鏡サプライチェーン", "Endoscope supply chain", "medical_devices",
           "軟性内視鏡", "Flexible endoscopes",
           ("chichibu_glass", "okayama_resins"), ("aizu_lens",),
           ("shirakawa_sensors", "chino_medical"), ("musashino_medical",)),
    _chain("自動車用特殊鋼サプライチェーン", "Automotive special steel supply chain", "steel",
           "駆動系鍛造部品", "Forged drivetrain parts",
           ("oita_iron", "iwate_ferro"), ("muroran_steel", "kure_steel"),
           ("toyohashi_forging", "higashihiroshima_gear"), ("aki_motors", "tokai_mobility")),
    _chain("船舶部品サプライチェーン", "Ship parts supply chain", "formed_materials",
           "舶用ディーゼルエンジン", "Marine diesel engines",
           ("oita_iron", "iwami_alloys"), ("tamano_heavy",),
           ("onomichi_propeller", "nagasaki_turbo"), ("setouchi_marine",)),
    _chain("高周波フィルタサプライチェーン", "RF filter supply chain", "electronic_components",
           "通信用SAW・BAWフィルタ", "SAW and BAW filters for communications",
           ("ueda_crystal",), ("iida_piezo",), ("fukuchiyama_saw", "tsuruoka_package"), ("yokohama_modules",)),
    _chain("小型人工衛星サプライチェーン", "Small satellite supply chain", "aerospace",
           "小型観測衛星", "Small earth-observation satellites",
           ("asahikawa_compound",), ("tsukuba_space_solar", "matsuyama_carbon"),
           ("mitaka_tracker", "osumi_thruster", "ryukyu_space"), ("owari_space",)),
    _chain("人工透析サプライチェーン", "Dialysis supply chain", "medical_devices",
           "人工透析用ダイアライザ・透析装置", "Dialysers and dialysis machines",
           ("iwakuni_plastics",), ("otsu_membranes", "awa_dialysis"),
           ("miyazaki_filters", "okaya_pump"), ("yotei_medical",)),
    _chain("半導体パッケージ基板サプライチェーン", "Semiconductor package substrate supply chain",
           "electronic_components", "AI向け先端パッケージ", "Advanced packages for AI",
           ("wakayama_epoxy", "koriyama_glasscloth"), ("nara_buildup",),
           ("saga_substrates", "yonago_bump"), ("oita_packaging", "atsugi_computing")),
    _tech("炭素繊維・CFRP技術グループ", "Carbon fibre and CFRP technology group", "chemicals",
          "炭素繊維", "Carbon fibre",
          ("matsuyama_carbon", "fukui_cf_fabric", "hakusan_composites", "tsuruga_cmc")),
    _tech("光ファイバ技術グループ", "Optical fibre technology group", "electronic_components",
          "光ファイバ", "Optical fibre",
          ("kanuma_fiber", "abukuma_quartz", "himeji_connectors", "yokohama_modules")),
    _tech("ペロブスカイト太陽電池技術グループ", "Perovskite solar cell technology group", "chemicals",
          "ペロブスカイト太陽電池", "Perovskite solar cells",
          ("senshu_solar", "chiba_iodine", "shiga_films", "ryukyu_green")),
    _tech("全固体電池技術グループ", "All-solid-state battery technology group", "automotive",
          "全固体電池", "All-solid-state batteries",
          ("hofu_electrolyte", "shunan_cathode", "tomakomai_lithium", "mikawa_cell")),
    _tech("量子コンピュータ部材技術グループ", "Quantum computer components technology group", "semiconductors",
          "量子コンピュータ部材", "Quantum computer components",
          ("tsukuba_cryo", "kyoto_superconducting", "hachioji_rf", "yokohama_modules")),
    _tech("バイオものづくり技術グループ", "Bio-manufacturing technology group", "pharmaceuticals",
          "合成生物学・バイオものづくり", "Synthetic biology and bio-manufacturing",
          ("obihiro_biofoundry", "okinawa_algae", "tokushima_ferment", "sanuki_api")),
    _tech("重要鉱物リサイクル技術グループ", "Critical mineral recycling technology group", "chemicals",
          "重要鉱物のリサイクル", "Critical mineral recycling",
          ("odate_urban_mining", "akita_re_recycle", "imabari_nickel", "moji_rare_earth")),
    _tech("汎用(レガシー)半導体技術グループ", "Legacy semiconductor technology group", "semiconductors",
          "汎用(レガシー)半導体", "Legacy semiconductors",
          ("joetsu_analog", "shirakawa_sensors", "chikushi_power", "kumamoto_foundry")),
)


# --- demo accounts ---------------------------------------------------------------------------------

STAFF_DOMAIN = "meti.example.go.jp"


@dataclass(frozen=True)
class AccountSpec:
    role: Role
    email: str
    display_name: str
    department: str
    password: str
    totp: bool
    description: str
    company: str | None = None  # company key for company staff
    active: bool = True
    locale: str | None = None


# Company e-mail domains (all under .example.): one per company that has demo users.
COMPANY_DOMAINS = {
    "tohoku_ceramics": "tohoku-ceramics.example.co.jp",
    "chikushi_power": "chikushi-power.example.co.jp",
    "shunan_cathode": "shunan-cathode.example.co.jp",
    "sanuki_api": "sanuki-api.example.co.jp",
    "ryukyu_space": "ryukyu-space.example.co.jp",
}


def _co(key: str, local: str) -> str:
    return f"{local}@{COMPANY_DOMAINS[key]}"


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec(Role.OFFICER, f"officer@{STAFF_DOMAIN}", "佐藤 美咲", "経済産業政策局 経済安全保障政策室",
                "kumo-hashi-sakura-2026", True, "Demo officer: runs dialogues; use this one first"),
    AccountSpec(Role.OFFICER, f"k.takahashi@{STAFF_DOMAIN}", "高橋 健太", "東北経済産業局 産業部",
                "yuki-kawa-tsubame-4821", True, "Officer at the Tohoku regional bureau (東北経済産業局)"),
    AccountSpec(Role.OFFICER, f"y.nakamura@{STAFF_DOMAIN}", "中村 由紀", "商務情報政策局 情報産業課",
                "hotaru-mori-shizuku-7305", True,
                "Officer for semiconductors and electronic components; English user interface", locale="en"),
    AccountSpec(Role.SECURITY_OFFICER, f"security@{STAFF_DOMAIN}", "伊藤 直樹", "大臣官房 保全管理室",
                "kaede-iwa-kitsune-6190", True,
                "Security officer: records clearances and qualified-company status"),
    AccountSpec(Role.SECURITY_OFFICER, f"m.kobayashi@{STAFF_DOMAIN}", "小林 恵", "大臣官房 保全管理室",
                "nami-tsuki-hibari-2958", True, "Second security officer"),
    AccountSpec(Role.ADMIN, f"admin@{STAFF_DOMAIN}", "渡辺 誠", "大臣官房 情報システム室",
                "hoshi-matsu-kasumi-8473", True, "Administrator: accounts, keys and the audit log"),
    AccountSpec(Role.COMPANY_ADMIN, _co("tohoku_ceramics", "a.suzuki"), "鈴木 一郎", "経営企画部",
                "ringo-yama-kaminari-3617", False, "", company="tohoku_ceramics"),
    AccountSpec(Role.COMPANY_MEMBER, _co("tohoku_ceramics", "h.tanaka"), "田中 花子", "輸出管理部",
                "tsubaki-umi-hayate-5082", True, "", company="tohoku_ceramics"),
    AccountSpec(Role.COMPANY_ADMIN, _co("chikushi_power", "r.yamamoto"), "山本 亮", "総務部 情報セキュリティ課",
                "sango-kiri-momiji-9146", True, "", company="chikushi_power"),
    AccountSpec(Role.COMPANY_MEMBER, _co("chikushi_power", "t.inoue"), "井上 拓海", "技術開発本部",
                "ayame-tani-kogarashi-2739", False, "", company="chikushi_power"),
    AccountSpec(Role.COMPANY_ADMIN, _co("shunan_cathode", "k.kimura"), "木村 恭子", "経営企画部",
                "fuji-nagi-warabi-6358", True, "", company="shunan_cathode"),
    AccountSpec(Role.COMPANY_MEMBER, _co("shunan_cathode", "s.hayashi"), "林 誠司", "調達部",
                "kiku-hama-ookami-1847", False, "Deactivated company member of 周南正極材料株式会社: sign-in must fail",
                company="shunan_cathode", active=False),
    AccountSpec(Role.COMPANY_ADMIN, _co("sanuki_api", "m.shimizu"), "清水 真由美", "品質保証部",
                "nori-shio-tombo-5521", False, "", company="sanuki_api"),
    AccountSpec(Role.COMPANY_MEMBER, _co("sanuki_api", "y.mori"), "森 優斗", "輸出管理部",
                "take-kaze-usagi-3094", True, "", company="sanuki_api"),
    AccountSpec(Role.COMPANY_ADMIN, _co("ryukyu_space", "n.higa"), "比嘉 なつみ", "代表取締役室",
                "goya-shisa-kamome-4410", False, "", company="ryukyu_space"),
)

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def totp_secrets() -> dict[str, str]:
    """Fixed 32-character base32 TOTP secrets for the accounts that have TOTP enrolled."""
    rng = random.Random(f"{RANDOM_SEED}-totp")  # fixed demo secrets, published on purpose
    out = {}
    for acct in ACCOUNTS:
        secret = "".join(rng.choice(_BASE32) for _ in range(32))
        if acct.totp:
            out[acct.email] = secret
    return out


def company_by_key() -> dict[str, CompanySpec]:
    return {c.key: c for c in COMPANIES}


def description(acct: AccountSpec) -> str:
    if acct.description:
        return acct.description
    company = company_by_key()[acct.company].name_ja
    what = "Company admin" if acct.role == Role.COMPANY_ADMIN else "Company member"
    return f"{what} of {company} ({'TOTP on' if acct.totp else 'TOTP off'})"


def password_context(acct: AccountSpec) -> tuple[str, ...]:
    """Words the password must not be built from: the e-mail's local part and its pieces, the name."""
    local, domain = acct.email.split("@")
    return (local, *local.split("."), *acct.display_name.split(), domain.split(".")[0])


def account_rows() -> list[dict]:
    """The entries of instance/demo-accounts.json, in a stable order."""
    secrets = totp_secrets()
    return [
        {
            "role": acct.role.value,
            "email": acct.email,
            "password": acct.password,
            "totp_secret": secrets.get(acct.email),
            "description": description(acct),
        }
        for acct in ACCOUNTS
    ]


def accounts_markdown(rows: list[dict] | None = None) -> str:
    """The demo accounts as a Markdown table for the README."""
    rows = account_rows() if rows is None else rows
    lines = [
        "| role | e-mail | password | TOTP secret | description |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        secret = f"`{r['totp_secret']}`" if r["totp_secret"] else "—"
        lines.append(f"| {r['role']} | `{r['email']}` | `{r['password']}` | {secret} | {r['description']} |")
    return "\n".join(lines) + "\n"
