(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 17
(002) ldb      [23]
(003) jeq      #0x6             jt 4	jf 9
(004) ldh      [20]
(005) jset     #0x1fff          jt 25	jf 6
(006) ldxb     4*([14]&0xf)
(007) ldb      [x + 27]
(008) jeq      #0x2             jt 24	jf 25
(009) jeq      #0x11            jt 10	jf 25
(010) ldh      [20]
(011) jset     #0x1fff          jt 25	jf 12
(012) ldxb     4*([14]&0xf)
(013) ldh      [x + 14]
(014) jeq      #0x35            jt 24	jf 15
(015) ldh      [x + 16]
(016) jeq      #0x35            jt 24	jf 25
(017) jeq      #0x86dd          jt 18	jf 25
(018) ldb      [20]
(019) jeq      #0x11            jt 20	jf 25
(020) ldh      [54]
(021) jeq      #0x35            jt 24	jf 22
(022) ldh      [56]
(023) jeq      #0x35            jt 24	jf 25
(024) ret      #262144
(025) ret      #0
