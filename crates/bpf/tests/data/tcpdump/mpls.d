(000) ldh      [12]
(001) jeq      #0x8847          jt 2	jf 6
(002) ld       [14]
(003) and      #0xfffff000
(004) jeq      #0x64000         jt 5	jf 6
(005) ret      #262144
(006) ret      #0
