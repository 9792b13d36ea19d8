(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 25
(002) ld       [26]
(003) jeq      #0xa4d0001       jt 69	jf 4
(004) jeq      #0xa4d0002       jt 69	jf 5
(005) jeq      #0xa4d0003       jt 69	jf 6
(006) jeq      #0xa4d0004       jt 69	jf 7
(007) jeq      #0xa4d0005       jt 69	jf 8
(008) jeq      #0xa4d0006       jt 69	jf 9
(009) jeq      #0xa4d0007       jt 69	jf 10
(010) jeq      #0xa4d0008       jt 69	jf 11
(011) jeq      #0xa4d0009       jt 69	jf 12
(012) jeq      #0xa4d000a       jt 69	jf 13
(013) jeq      #0xa4d000b       jt 69	jf 14
(014) jeq      #0xa4d000c       jt 69	jf 15
(015) jeq      #0xa4d000d       jt 69	jf 16
(016) jeq      #0xa4d000e       jt 69	jf 17
(017) jeq      #0xa4d000f       jt 69	jf 18
(018) jeq      #0xa4d0010       jt 69	jf 19
(019) jeq      #0xa4d0011       jt 69	jf 20
(020) jeq      #0xa4d0012       jt 69	jf 21
(021) jeq      #0xa4d0013       jt 69	jf 22
(022) jeq      #0xa4d0014       jt 69	jf 23
(023) ld       [30]
(024) jeq      #0xa4d0001       jt 69	jf 50
(025) jeq      #0x806           jt 27	jf 26
(026) jeq      #0x8035          jt 27	jf 70
(027) ld       [28]
(028) jeq      #0xa4d0001       jt 69	jf 29
(029) jeq      #0xa4d0002       jt 69	jf 30
(030) jeq      #0xa4d0003       jt 69	jf 31
(031) jeq      #0xa4d0004       jt 69	jf 32
(032) jeq      #0xa4d0005       jt 69	jf 33
(033) jeq      #0xa4d0006       jt 69	jf 34
(034) jeq      #0xa4d0007       jt 69	jf 35
(035) jeq      #0xa4d0008       jt 69	jf 36
(036) jeq      #0xa4d0009       jt 69	jf 37
(037) jeq      #0xa4d000a       jt 69	jf 38
(038) jeq      #0xa4d000b       jt 69	jf 39
(039) jeq      #0xa4d000c       jt 69	jf 40
(040) jeq      #0xa4d000d       jt 69	jf 41
(041) jeq      #0xa4d000e       jt 69	jf 42
(042) jeq      #0xa4d000f       jt 69	jf 43
(043) jeq      #0xa4d0010       jt 69	jf 44
(044) jeq      #0xa4d0011       jt 69	jf 45
(045) jeq      #0xa4d0012       jt 69	jf 46
(046) jeq      #0xa4d0013       jt 69	jf 47
(047) jeq      #0xa4d0014       jt 69	jf 48
(048) ld       [38]
(049) jeq      #0xa4d0001       jt 69	jf 50
(050) jeq      #0xa4d0002       jt 69	jf 51
(051) jeq      #0xa4d0003       jt 69	jf 52
(052) jeq      #0xa4d0004       jt 69	jf 53
(053) jeq      #0xa4d0005       jt 69	jf 54
(054) jeq      #0xa4d0006       jt 69	jf 55
(055) jeq      #0xa4d0007       jt 69	jf 56
(056) jeq      #0xa4d0008       jt 69	jf 57
(057) jeq      #0xa4d0009       jt 69	jf 58
(058) jeq      #0xa4d000a       jt 69	jf 59
(059) jeq      #0xa4d000b       jt 69	jf 60
(060) jeq      #0xa4d000c       jt 69	jf 61
(061) jeq      #0xa4d000d       jt 69	jf 62
(062) jeq      #0xa4d000e       jt 69	jf 63
(063) jeq      #0xa4d000f       jt 69	jf 64
(064) jeq      #0xa4d0010       jt 69	jf 65
(065) jeq      #0xa4d0011       jt 69	jf 66
(066) jeq      #0xa4d0012       jt 69	jf 67
(067) jeq      #0xa4d0013       jt 69	jf 68
(068) jeq      #0xa4d0014       jt 69	jf 70
(069) ret      #262144
(070) ret      #0
